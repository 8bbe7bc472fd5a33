// Where a contact stands with WhatsApp's call permission, in words and in the rep's own clock: a line on the
// keypad as soon as a number is there, the requests still waiting for an answer, and a notice with Call now
// when a contact accepts while the rep is elsewhere in the widget. The sentences are verdict.js's.
import { api } from './api.js';
import * as socket from './socket.js';
import { formatNumber, isPlausible, timeOf, toE164 } from './format.js';
import { $ } from './screens.js';
import { missedWarning, stateLine } from './verdict.js';

const LOOKUP_MS = 250; // typing: ask once the digits settle
const ASK_SCREENS = ['permission', 'pending', 'denied']; // these screens follow the contact themselves

export async function fetchStanding(phone) {
  return (await api('GET', `/api/permissions/status/${encodeURIComponent(phone)}`)).permission;
}

// The keypad's line for the number in the field (nothing until the number is plausible).
export function lookUp(state, { now = false } = {}) {
  clearTimeout(state.standing.timer);
  const phone = toE164($('number').value);
  if (!isPlausible(phone)) {
    render(null);
    return;
  }
  const ask = async () => {
    try {
      const permission = await fetchStanding(phone);
      if (toE164($('number').value) === phone) render(permission);
    } catch (err) {
      render(null); // the line is a hint: Call still asks and explains
    }
  };
  if (now) ask(); else state.standing.timer = setTimeout(ask, LOOKUP_MS);
}

function render(permission) {
  const line = $('permission-state');
  line.hidden = !permission;
  if (!permission) return;
  line.dataset.status = permission.can_call ? 'can-call' : permission.status;
  line.textContent = stateLine(permission);
  const warning = missedWarning(permission);
  $('missed-warning').textContent = warning || '';
  $('missed-warning').hidden = !warning;
}

// The requests this rep sent that nobody answered yet, newest first.
export async function loadPending(state) {
  if (!state.agent) return;
  try {
    state.standing.pending = (await api('GET', '/api/permissions/pending')).permissions;
  } catch (err) {
    return; // the list is a convenience; the next keypad visit asks again
  }
  renderPending(state.standing.pending);
}

function renderPending(pending) {
  $('pending-requests').hidden = !pending.length;
  $('pending-list').replaceChildren(...pending.map((p) => {
    const item = document.createElement('li');
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'link';
    open.dataset.number = p.phone;
    open.textContent = formatNumber(p.phone);
    const since = document.createElement('span');
    since.className = 'muted';
    since.textContent = `asked ${timeOf(p.requested_at)}`;
    item.append(open, ' ', since);
    return item;
  }));
}

// A contact accepted: the keypad line follows; elsewhere in the widget a notice offers Call now.
function updated(state, permission) {
  if (!permission) return;
  const waited = state.standing.pending.some((p) => p.phone === permission.phone);
  const mine = state.permission && state.permission.phone === permission.phone; // the contact this rep asked
  if (toE164($('number').value) === permission.phone) render(permission);
  if (waited || (mine && permission.status === 'pending')) {
    state.standing.pending = state.standing.pending.filter((p) => p.phone !== permission.phone);
    if (permission.status === 'pending') state.standing.pending.unshift(permission);
    renderPending(state.standing.pending);
  }
  // Only the answer to a request still waited for (not every later change, such as a call connecting).
  if (!permission.can_call || !waited || ASK_SCREENS.includes(state.screen)) return;
  if (state.screen === 'keypad' && toE164($('number').value) === permission.phone) return; // the line says it
  state.standing.accepted = permission.phone;
  $('accepted-text').textContent = `${formatNumber(permission.phone)} accepted WhatsApp calls.`;
  $('accepted-notice').hidden = false;
}

export function dismiss(state) {
  state.standing.accepted = null;
  $('accepted-notice').hidden = true;
}

export function listen(state) {
  socket.onMessage('permission_updated', ({ permission }) => updated(state, permission));
  socket.onMessage('open', () => loadPending(state));
}
