// HubSpot's calling window (usesCallingWindow): the call and the phone live only in the `window` copy,
// which survives HubSpot's page loads. The `remote` copy (in HubSpot's page) mirrors the window's call
// screens and forwards button presses over a same-origin BroadcastChannel; it sends HubSpot nothing
// about the call. A reloaded remote asks the window for its state ("hello") and shows the call again.
import * as hubspot from './hubspot.js';
import { $, bind, onShow, show, showMute } from './screens.js';
import { state as widgetState } from './state.js';

const CHANNEL = 'wa-calling-window';
const CALL_SCREENS = ['dialing', 'incoming', 'calling', 'ended'];
const own = widgetState.mirror; // this module's part of the state: channel (the BroadcastChannel, once started)

export const active = () => own.channel !== null;
export const isRemote = () => active() && !hubspot.ownsCalls();

// onAction(action, args) runs a forwarded button press in the window copy.
export function start(state, onAction) {
  if (own.channel || !state.hubspot.usesCallingWindow || typeof BroadcastChannel !== 'function') return;
  const channel = new BroadcastChannel(CHANNEL);
  own.channel = channel;
  if (hubspot.ownsCalls()) {
    channel.onmessage = ({ data }) => {
      if (data.type === 'hello') publish(state);
      if (data.type === 'action') onAction(data.action, data.args || {});
    };
    onShow(state, () => publish(state));
    publish(state);
  } else {
    channel.onmessage = ({ data }) => { if (data.type === 'state') mirror(state, data); };
    channel.postMessage({ type: 'hello' });
  }
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

// A button pressed in the remote copy, for the window copy to carry out.
export function forward(action, args = {}) {
  if (own.channel) own.channel.postMessage({ type: 'action', action, args });
}
