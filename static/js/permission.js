// WhatsApp's call permission: the request, pending and declined screens. A permission that allows
// calls makes the keypad dial-ready. permission_updated (socket) is the fast path; polling the fallback.
import { api } from './api.js';
import * as socket from './socket.js';
import { formatNumber } from './format.js';
import { $, apiMessage, renderPermission, say, setParty, show, showError } from './screens.js';

const SCREENS = ['permission', 'pending', 'denied'];
const PENDING_POLL_MS = 3000;

export async function fetchPermission(phone) {
  return (await api('GET', `/api/permissions/status/${encodeURIComponent(phone)}`)).permission;
}

export function listen(state) {
  socket.onMessage('permission_updated', ({ permission }) => permissionUpdated(state, permission));
}

export function showPermission(state, permission) {
  state.permission = permission;
  setParty(permission.phone);
  const screen = renderPermission(permission, state.requestSentAt);
  if (screen === 'keypad') return readyToCall(state, permission);
  if (state.screen !== screen) show(state, screen);
  if (screen === 'pending') watchPending(state);
}

// Where the grant came from shows: a call-in (Meta's callback permission) reads differently from an accepted request.
function readyToCall(state, permission) {
  const phone = permission.phone;
  $('number').value = formatNumber(phone);
  $('ready').textContent = permission.granted_by === 'callback'
    ? `${permission.grant_reason} WhatsApp allows a call back: you can call now.`
    : `${formatNumber(phone)} accepted WhatsApp calls. You can call now.`;
  $('ready').hidden = false;
  show(state, 'keypad');
  $('call').focus();
  say('Permission granted.');
}

// A newer permission: redraw if it is the contact on screen.
function permissionUpdated(state, permission) {
  if (!permission || !state.permission || permission.phone !== state.permission.phone) return;
  if (SCREENS.includes(state.screen)) showPermission(state, permission); else state.permission = permission;
}

function watchPending(state) {
  if (state.pendingPoll) return;
  const poll = async () => {
    state.pendingPoll = null;
    if (state.screen !== 'pending' || !state.permission) return;
    try {
      permissionUpdated(state, await fetchPermission(state.permission.phone));
    } catch (err) {
      say(apiMessage(err));
    }
    if (state.screen === 'pending' && !state.pendingPoll) state.pendingPoll = setTimeout(poll, PENDING_POLL_MS);
  };
  state.pendingPoll = setTimeout(poll, PENDING_POLL_MS);
}

// Issue 15: the call invite; the permission screen then says when it went ("Invite sent 10:02").
export async function sendInvite(state) {
  $('send-invite').disabled = true;
  try {
    const { permission } = await api('POST', '/api/permissions/invite', { phone: state.permission.phone });
    showPermission(state, permission);
    say(`Call invite sent to ${formatNumber(permission.phone)}.`);
  } catch (err) {
    if (err.details.permission) showPermission(state, err.details.permission);
    else $('send-invite').disabled = false;
    showError(apiMessage(err));
  }
}

export async function requestPermission(state) {
  try {
    const { permission } = await api('POST', '/api/permissions/request', { phone: state.permission.phone });
    state.requestSentAt = new Date().toISOString();
    showPermission(state, permission);
  } catch (err) {
    if (err.details.permission) showPermission(state, err.details.permission);
    showError(apiMessage(err));
  }
}
