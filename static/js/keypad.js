// The keypad: typing, pasting and tapping a number, then Call: permission first, then the call.
import * as mirror from './mirror.js';
import * as outbound from './outbound.js';
import { formatNumber, isPlausible, reformatInput, toE164 } from './format.js';
import { fetchPermission, showPermission } from './permission.js';
import { $, apiMessage, setParty, showError } from './screens.js';

const showNumber = (e164) => { $('number').value = formatNumber(e164); };

export function typeNumber() {
  reformatInput($('number'));
  showError('');
  $('ready').hidden = true;
}

export function pasteNumber(event) {
  event.preventDefault();
  showNumber(toE164(event.clipboardData.getData('text')));
}

export function pressKey(event) {
  const key = event.target.closest('[data-key]');
  if (key) typeDigit(key.dataset.key);
}

export function typeDigit(digit) {
  showNumber(toE164($('number').value + digit));
}

// A 12-key pad is one tab stop: Tab reaches the last key used, arrow keys (and Home, End) move between keys.
export function rove(pad) {
  const keys = [...pad.querySelectorAll('[data-key]')];
  const current = (index) => keys.forEach((key, i) => { key.tabIndex = i === index ? 0 : -1; });
  const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 3, ArrowUp: -3 };
  current(0);
  pad.addEventListener('focusin', (event) => { if (keys.includes(event.target)) current(keys.indexOf(event.target)); });
  pad.addEventListener('keydown', (event) => {
    const at = keys.indexOf(event.target);
    if (at < 0) return;
    let next = { Home: 0, End: keys.length - 1 }[event.key] ?? (event.key in moves ? at + moves[event.key] : null);
    if (next === null) return;
    event.preventDefault();
    next = Math.max(0, Math.min(keys.length - 1, next));
    current(next);
    keys[next].focus();
  });
}

export function deleteDigit() {
  showNumber(toE164($('number').value).slice(0, -1));
}

export async function callNumber(state) {
  const phone = toE164($('number').value);
  if (!isPlausible(phone)) return showError('Enter the number with its country code, like +44 7400 123456.');
  showError('');
  $('ready').hidden = true;
  setParty(phone);
  try {
    const permission = await fetchPermission(phone);
    if (permission.can_call) dial(state, phone); else showPermission(state, permission);
  } catch (err) {
    showError(apiMessage(err));
  }
}

// In HubSpot's calling window only the window copy dials; the remote copy hands it the number.
export const dial = (state, phone) => (mirror.isRemote()
  ? mirror.forward('dial', { phone, from: state.from }) : outbound.startOutgoingCall(state, phone));

// The window copy dials what the remote copy's keypad sent.
export function dialForwarded(state, { phone, from }) {
  if (from && state.numbers.some((n) => n.e164 === from)) state.from = from;
  showNumber(phone);
  dial(state, phone);
}
