// HubSpot's calling window (usesCallingWindow): the call and the phone live only in the `window` copy,
// which survives HubSpot's page loads. The `remote` copy (in HubSpot's page) mirrors the window's call
// screens and forwards button presses over a same-origin BroadcastChannel; it sends HubSpot nothing
// about the call. A reloaded remote asks the window for its state ("hello") and shows the call again.
// Signing in or out in one copy signs the other in or out ("session"); a forwarded press the window copy
// does not acknowledge in time means no calling window is open, and the remote copy says what to do.
import * as hubspot from './hubspot.js';
import { $, bind, onShow, show, showError, showMute } from './screens.js';
import { state as widgetState } from './state.js';

const CHANNEL = 'wa-calling-window';
const CALL_SCREENS = ['dialing', 'incoming', 'calling', 'ended'];
const ACK_MS = 1500; // the window copy answers a forwarded press at once; silence means it is not open
export const NO_WINDOW = 'HubSpot’s calling window is not open. Open it from HubSpot’s calling panel '
  + '(the phone icon, then Open calling window), and press Call there or here again.';
let sequence = 0;
const unanswered = new Map(); // forwarded presses waiting for the window copy's ack: id -> timer
const own = widgetState.mirror; // this module's part of the state: channel (the BroadcastChannel, once started)

export const active = () => own.channel !== null;
export const isRemote = () => active() && !hubspot.ownsCalls();

// onAction(action, args) runs a forwarded button press in the window copy; onSession(signedIn) follows a
// sign-in or sign-out made in the other copy.
export function start(state, onAction, onSession) {
  if (own.channel || !state.hubspot.usesCallingWindow || typeof BroadcastChannel !== 'function') return;
  const channel = new BroadcastChannel(CHANNEL);
  own.channel = channel;
  if (hubspot.ownsCalls()) {
    channel.onmessage = ({ data }) => {
      if (data.type === 'hello') publish(state);
      if (data.type === 'action') {
        channel.postMessage({ type: 'ack', id: data.id });
        onAction(data.action, data.args || {});
      }
      if (data.type === 'session') onSession(data.signedIn);
    };
    onShow(state, () => publish(state));
    publish(state);
  } else {
    channel.onmessage = ({ data }) => {
      if (data.type === 'state') mirror(state, data);
      if (data.type === 'ack') {
        clearTimeout(unanswered.get(data.id));
        unanswered.delete(data.id);
      }
      if (data.type === 'session') onSession(data.signedIn);
    };
    channel.postMessage({ type: 'hello' });
  }
}

// This copy signed in or out: the other copy follows (it resumes from the session cookie both share).
export function announceSession(signedIn) {
  if (own.channel) own.channel.postMessage({ type: 'session', signedIn });
}

// The window copy's call, as the remote needs it to draw the same screen (plain data only).
export const share = (state) => publish(state);

function publish(state) {
  if (!own.channel || !hubspot.ownsCalls()) return;
  const { call } = state;
  own.channel.postMessage({
    type: 'state', screen: state.screen, answeredAt: state.answeredAt, muted: state.muted,
    call: call ? { id: call.id, direction: call.direction, status: call.status, from: call.from, to: call.to } : null,
    party: $('screen-dialing').querySelector('[data-bind="party"]').textContent,
    phone: document.querySelector('[data-bind="phone"]').textContent,
    partyNumber: $('screen-dialing').querySelector('[data-bind="party-number"]').textContent,
    summary: $('ended-summary').textContent, error: $('error').hidden ? '' : $('error').textContent,
  });
}

function mirror(state, snapshot) {
  const onCall = snapshot.call && CALL_SCREENS.includes(snapshot.screen);
  if (!onCall) {
    if (CALL_SCREENS.includes(state.screen)) show(state, state.agent ? 'keypad' : 'login');
    return;
  }
  state.answeredAt = snapshot.answeredAt;
  state.muted = snapshot.muted;
  bind('party', snapshot.party);
  bind('phone', snapshot.phone);
  bind('party-number', snapshot.partyNumber || '');
  $('ended-summary').textContent = snapshot.summary;
  showMute(Boolean(snapshot.muted));
  $('error').textContent = snapshot.error;
  $('error').hidden = !snapshot.error;
  if (state.screen !== snapshot.screen) show(state, snapshot.screen);
}

// A button pressed in the remote copy, for the window copy to carry out (or, with no window open, an
// explanation instead of nothing).
export function forward(action, args = {}) {
  if (!own.channel) return;
  sequence += 1;
  const id = sequence;
  unanswered.set(id, setTimeout(() => {
    unanswered.delete(id);
    showError(NO_WINDOW);
  }, ACK_MS));
  own.channel.postMessage({ type: 'action', action, args, id });
}
