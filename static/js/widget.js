// The widget: one state object (state.js), one screen at a time, one small function per user action.
// This file is the wiring: HubSpot's messages, the socket's call status, the buttons, and start-up. The
// work is in session.js (sign-in), keypad.js and permission.js (before a call), outbound.js, inbound.js
// and calls.js (the call), presence.js (availability and the socket), mirror.js (HubSpot's calling window).
import { api, whenReachable, whenUnauthorized } from './api.js';
import * as hubspot from './hubspot.js';
import * as calls from './calls.js';
import * as inbound from './inbound.js';
import * as keypad from './keypad.js';
import * as missed from './missed.js';
import * as mirror from './mirror.js';
import * as outbound from './outbound.js';
import * as permission from './permission.js';
import * as presence from './presence.js';
import * as session from './session.js';
import * as socket from './socket.js';
import * as standing from './standing.js';
import * as wrapup from './wrapup.js';
import { clock, formatNumber, toE164 } from './format.js';
import { DEMO } from './phone.js';
import { $, apiMessage, onShow, renderHistory, renderPermission, say, show, showAvailability, showError } from './screens.js';
import { state } from './state.js';

export { state }; // for tests, which reach the widget through this module

const HISTORY_REFRESH_S = 3; // while a save is on its way to HubSpot, the history updates itself
const BACK_SCREENS = ['permission', 'pending', 'denied', 'history', 'missed'];

// For tests that bring their own phone.
export const attachPhone = (phone) => { state.phone = phone; };
// Tests import the bundle the page runs (one module graph, one state) and reach these through it.
export { livePhone } from './phone.js';
export { close as closeSocket } from './socket.js';

// ---- HubSpot's messages ----------------------------------------------------------------------
const sdkHandlers = {
  onReady,
  onUntrustedHost: (hostUrl) => showError(`This widget only runs inside HubSpot, not ${hostUrl || 'this page'}.`),
  onDialNumber,
  onEngagementCreated: (engagementId) => calls.onEngagementCreated(state, engagementId),
  onCallerIdMatch: (data) => inbound.callerMatched(state, data),
  onVisibilityChanged: ({ isMinimized, isHidden }) => {
    state.hidden = Boolean(isMinimized || isHidden);
    if (!state.hidden) sendSize({ force: true });
  },
  onEndCall: () => calls.hangUp(state),
  onFailure: showError,
};

async function onReady() {
  const signedIn = await state.resumed;
  hubspot.initialized(signedIn, state.available);
  if (signedIn) session.enterKeypad(state); else show(state, 'login');
  mirror.start(state, runForwarded, (signedIn) => session.followOtherCopy(state, signedIn));
  // Content that grows is never cut (sent at once); a smaller screen is sent once, when the screen changes.
  new ResizeObserver(() => sendSize({ growOnly: true })).observe($('app'));
  onShow(state, () => requestAnimationFrame(() => sendSize()));
  session.loadVoiceSdk(state);
}

function sendSize({ force = false, growOnly = false } = {}) {
  const height = Math.ceil($('app').getBoundingClientRect().height);
  if (growOnly && height <= state.sentHeight) return;
  if (force || height !== state.sentHeight) hubspot.resize(height);
  state.sentHeight = height;
}

function onDialNumber(data) {
  const phone = toE164(data.phoneNumber || data.phone_number);
  state.dial = { phone, calleeInfo: data.calleeInfo || null, objectId: data.objectId, objectType: data.objectType,
    portalId: data.portalId ?? state.hubspot.portalId, ownerId: data.ownerId };
  $('number').value = formatNumber(phone);
  $('dialed').textContent = `HubSpot sent ${formatNumber(phone)}`;
  $('dialed').hidden = !phone;
  standing.lookUp(state, { now: true });
  if (state.agent && (state.screen === 'keypad' || BACK_SCREENS.includes(state.screen))) {
    show(state, 'keypad');
    $('call').focus();
  }
}

// A button pressed in the remote copy of HubSpot's calling window, carried out here (the window copy).
function runForwarded(action, args) {
  const actions = {
    dial: () => keypad.dialForwarded(state, args),
    hangup: () => calls.hangUp(state),
    mute: () => calls.toggleMute(state),
    digit: () => calls.sendTone(state, args.digit),
    save: () => {
      $('notes').value = args.notes || '';
      $('outcome').value = args.outcome || '';
      if (args.again) saveAndCallAgain(); else wrapup.save(state);
    },
    discard: () => wrapup.discard(state),
    accept: () => inbound.accept(state),
    decline: () => inbound.decline(state),
    available: () => setAvailable(Boolean(args.on)),
  };
  if (actions[action]) actions[action]();
}

// ---- the server's call status ----------------------------------------------------------------
// The one call_status subscriber (the socket's messages, and outbound.js's poll standing in for a lost
// one): an update of the call on screen goes to the logic of the call's direction.
function onCallStatus({ call: update }) {
  const { call } = state;
  if (!call || !update || update.id !== call.id) return;
  if (call.direction === 'inbound') inbound.onCallStatus(state, update); else outbound.onCallStatus(state, update);
}

// ---- wrap-up ---------------------------------------------------------------------------------
// Save, then the same contact again through the keypad (permission first, as any call).
async function saveAndCallAgain() {
  const saved = await wrapup.save(state);
  if (!saved) return;
  $('number').value = formatNumber(saved.direction === 'inbound' ? saved.from : saved.to);
  keypad.callNumber(state);
}

// ---- availability and missed calls -----------------------------------------------------------
function setAvailable(on) {
  presence.setAvailable(state, on);
  showAvailability(on);
}

// Call back from the Missed list: the number on the keypad, then Call (permission first).
function callBack(event) {
  const button = event.target.closest('[data-callback]');
  if (!button) return;
  $('number').value = formatNumber(button.dataset.callback);
  show(state, 'keypad');
  keypad.callNumber(state);
}

// The notice's Call now: the contact who just accepted, on the keypad, then Call.
function callAccepted() {
  const phone = state.standing.accepted;
  standing.dismiss(state);
  if (!phone) return;
  $('number').value = formatNumber(phone);
  show(state, 'keypad');
  keypad.callNumber(state);
}

// ---- history ---------------------------------------------------------------------------------
async function showHistory() {
  show(state, 'history');
  await loadHistory();
}

async function loadHistory() {
  try {
    state.history = (await api('GET', '/api/calls?limit=20')).calls;
    renderHistory(state.history);
  } catch (err) {
    showError(apiMessage(err));
  }
}

// Redial from the history: the number on the keypad, then Call (permission first, as any call).
function redial(event) {
  const button = event.target.closest('[data-redial]');
  if (!button) return;
  $('number').value = formatNumber(button.dataset.redial);
  show(state, 'keypad');
  keypad.callNumber(state);
}

// A call whose HubSpot write failed (or never happened): queue it again now.
async function retrySync(event) {
  const button = event.target.closest('[data-retry]');
  if (!button) return;
  button.disabled = true;
  try {
    await api('POST', `/api/calls/${button.dataset.retry}/sync/retry`);
    showHistory();
  } catch (err) {
    button.disabled = false;
    showError(apiMessage(err));
  }
}

function backToKeypad() {
  showError('');
  show(state, state.agent ? 'keypad' : 'login');
}

function tick() {
  state.ticks = (state.ticks + 1) % HISTORY_REFRESH_S;
  const saving = state.history.some((call) => call.sync && call.sync.status === 'pending');
  if (state.screen === 'history' && saving && state.ticks === 0) loadHistory();
  if (state.screen === 'calling' && state.answeredAt) $('timer').textContent = clock((Date.now() - state.answeredAt) / 1000);
  if (state.screen === 'pending') renderPermission(state.permission, state.requestSentAt);
}

// ---- start -----------------------------------------------------------------------------------
function bindEvents() {
  const on = (id, type, handler) => $(id).addEventListener(type, handler);
  const requestPermission = () => permission.requestPermission(state);
  on('login-form', 'submit', (event) => session.signIn(state, event));
  const lookUp = (change) => (event) => { change(event); standing.lookUp(state); };
  on('number', 'input', lookUp(keypad.typeNumber));
  on('number', 'paste', lookUp(keypad.pasteNumber));
  on('number', 'keydown', (event) => { if (event.key === 'Enter') keypad.callNumber(state); });
  on('pad', 'click', lookUp(keypad.pressKey));
  on('backspace', 'click', lookUp(keypad.deleteDigit));
  keypad.rove($('pad'));
  keypad.rove($('tones'));
  // Digits typed anywhere on the keypad screen go into the number (the field itself types them as usual).
  on('screen-keypad', 'keydown', (event) => {
    if (!/^[0-9*#+]$/.test(event.key) || event.ctrlKey || event.metaKey || event.altKey
      || event.target.matches('input, select, textarea')) return;
    event.preventDefault();
    keypad.typeDigit(event.key);
    standing.lookUp(state);
  });
  on('pending-list', 'click', (event) => {
    const button = event.target.closest('[data-number]');
    if (!button) return;
    $('number').value = formatNumber(button.dataset.number);
    standing.lookUp(state, { now: true });
    $('number').focus();
  });
  on('accepted-call', 'click', callAccepted);
  on('accepted-dismiss', 'click', () => standing.dismiss(state));
  on('call', 'click', () => keypad.callNumber(state));
  on('available', 'change', (event) => setAvailable(event.target.checked));
  on('turn-on', 'click', () => { setAvailable(true); $('available').focus(); });
  on('show-missed', 'click', () => missed.open(state));
  on('missed-list', 'click', callBack);
  on('from-number', 'change', (event) => { state.from = event.target.value; });
  on('show-history', 'click', showHistory);
  on('logout', 'click', () => session.logOut(state));
  on('request-permission', 'click', requestPermission);
  on('request-again', 'click', requestPermission);
  on('send-invite', 'click', () => permission.sendInvite(state));
  // In the remote copy of HubSpot's calling window, call buttons act on the window copy's call.
  const callButton = (action, local) => (input) => {
    const args = input instanceof Event ? {} : input; // a click carries nothing to forward
    return mirror.isRemote() ? mirror.forward(action, args) : local(args);
  };
  const hangUp = callButton('hangup', () => calls.hangUp(state));
  on('cancel-call', 'click', hangUp);
  on('hangup', 'click', hangUp);
  on('accept', 'click', callButton('accept', () => inbound.accept(state)));
  on('decline', 'click', callButton('decline', () => inbound.decline(state)));
  on('mute', 'click', callButton('mute', () => calls.toggleMute(state)));
  on('toggle-tones', 'click', calls.toggleTones);
  const tone = callButton('digit', ({ digit }) => calls.sendTone(state, digit));
  on('tones', 'click', (event) => {
    const button = event.target.closest('[data-key]');
    if (button) tone({ digit: button.dataset.key });
  });
  const save = callButton('save', ({ again }) => (again ? saveAndCallAgain() : wrapup.save(state)));
  const wrapUpArgs = (again) => ({ notes: $('notes').value.trim(), outcome: $('outcome').value, again });
  on('wrapup-form', 'submit', (event) => {
    event.preventDefault();
    save(wrapUpArgs(false));
  });
  on('save-redial', 'click', () => save(wrapUpArgs(true)));
  on('discard-call', 'click', wrapup.askDiscard);
  on('discard-no', 'click', () => { wrapup.closeConfirm(); $('discard-call').focus(); });
  on('discard-yes', 'click', callButton('discard', () => wrapup.discard(state)));
  const typed = () => { if (!mirror.isRemote()) wrapup.changed(state); };
  on('call-notes', 'input', typed);
  on('notes', 'input', typed);
  on('outcome', 'change', typed);
  window.addEventListener('pagehide', () => wrapup.flush(state, { keepalive: true }));
  on('history-list', 'click', retrySync);
  on('history-list', 'click', redial);
  document.querySelectorAll('[data-back]').forEach((button) => button.addEventListener('click', backToKeypad));
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    if (BACK_SCREENS.includes(state.screen)) backToKeypad();
    if (state.screen === 'ended') wrapup.escape();
  });
}

function boot() {
  bindEvents();
  // The socket's messages, in this order: presence before rings on every (re)connect. The socket itself is
  // opened after sign-in, by presence.js.
  socket.onMessage('call_status', onCallStatus);
  // Connected again (a request answered, the socket open): a "Cannot reach the server" is no longer true.
  const reachable = () => { if ($('error').textContent.startsWith('Cannot reach the server')) showError(''); };
  whenReachable(reachable);
  socket.onMessage('open', reachable);
  presence.listen(state);
  inbound.listen(state);
  permission.listen(state);
  missed.listen(state);
  standing.listen(state);
  onShow(state, (screen) => {
    if (screen !== 'keypad' || !state.agent) return;
    showAvailability(state.available);
    missed.refresh(state);
    standing.lookUp(state, { now: true });
    standing.loadPending(state);
  });
  whenUnauthorized(() => session.signedOut(state, 'Your session has ended. Please sign in again.'));
  state.resumed = session.resume(state); // runs while the SDK loads and waits for HubSpot's SYNC
  const sdk = $('hubspot-sdk');
  const connect = () => {
    if (!hubspot.connect(sdkHandlers, DEMO)) showError('HubSpot’s calling SDK did not load. Reload the widget.');
  };
  if (typeof window.default === 'function') connect(); else sdk.addEventListener('load', connect);
  sdk.addEventListener('error', connect);
  setInterval(tick, 1000);
  setTimeout(() => { if (state.screen === 'loading') say('Waiting for HubSpot: open this widget from HubSpot’s calling menu.'); }, 8000);
}

boot();
