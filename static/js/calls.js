// A call's phase and screens (dialing, incoming, calling, ended) and HubSpot's call messages.
// Every function takes the widget's one state object; state.phone is attached by session.js.
import { api } from './api.js';
import * as hubspot from './hubspot.js';
import { clock } from './format.js';
import * as mirror from './mirror.js';
import { $, apiMessage, endedSummary, say, show, showError, showMute } from './screens.js';

const ENDED_TEXT = { BUSY: 'declined', NO_ANSWER: 'no answer', FAILED: 'failed', CANCELED: 'cancelled' };
// The outcome an end suggests: the server lists HubSpot's outcomes in the page (<option data-suggest>).
export const suggestedOutcome = (status) => document.querySelector(`#outcome option[data-suggest="${status}"]`)?.value || '';
// hs_call_external_id as the server writes it (hubspot/engagements.py): the Twilio CallSid, or
// wa-call-<id> before Twilio gave one. Fixed at first use, so a sid learned mid-call changes nothing.
export const externalId = (call) => {
  if (!call.externalId) call.externalId = call.sid || `wa-call-${call.id}`;
  return call.externalId;
};

// The call's phase, set here and nowhere else. One call at a time; null: no call (state.call goes too).
//   inbound:  ringing -> accepting (Accept pressed, our claim on its way; back to ringing if it failed)
//             -> dialing (claimed: the call is ours while this browser picks it up) -> connected -> ended
//             (dialing -> ended when the pick-up fails or the caller hangs up first).
//             A ring this agent does not take (declined, missed, taken by another agent) goes to null.
//   outbound: dialing (our call record exists, the phone dials) -> connected -> ended, or dialing -> ended.
//   resumed after a reload: dialing or connected.
//   ended (the notes form) -> null once the notes are saved.
// Ringing and accepting calls are offered to this agent, not yet theirs: Decline, not hangUp, lets them go.
export function setPhase(state, phase) {
  state.phase = phase;
  if (!phase) {
    state.call = null;
    clearTimeout(state.draft.timer); // the notes of a call that is over belong to nobody now
    Object.assign(state.draft, { timer: null, sent: '' });
    $('call-notes').value = '';
    $('notes').value = '';
    $('draft-status').textContent = '';
  }
  $('accept').disabled = phase !== 'ringing'; // Accept is pressed once, and only while it rings
}

// Ringing, or Accept pressed and our claim not yet answered: the call is offered to us, not ours.
export const offered = (state) => state.phase === 'ringing' || state.phase === 'accepting';

// A failure the agent and HubSpot both hear about.
export function fail(err) {
  showError(apiMessage(err));
  hubspot.sendError(apiMessage(err));
}

// The server's copy of the call; HubSpot's engagement id may be known here before the server has it.
export function merge(call, update) {
  Object.assign(call, update, { engagement_id: update.engagement_id || call.engagement_id });
}

// Hang up through our server (Twilio ends every leg) when the call did not end by itself.
export async function endOnServer(call) {
  try {
    await api('POST', '/api/calls/end', { call_id: call.id });
  } catch (err) {
    say(apiMessage(err));
  }
}

export function saveEngagement(call) {
  api('POST', `/api/calls/${call.id}/engagement`, { engagementId: call.engagement_id })
    .catch((err) => say(apiMessage(err)));
}

// Answered: the timer runs from the answer (the server's time when resuming after a reload).
// tellHubSpot false: a call resumed after a reload, whose answer HubSpot heard before the reload.
export function callConnected(state, answeredAt, { tellHubSpot = true } = {}) {
  const { call } = state;
  if (!call || state.phase === 'ended') return;
  const answerNews = tellHubSpot && state.phase !== 'connected';
  setPhase(state, 'connected');
  state.answeredAt = answeredAt ? Date.parse(answeredAt) : Date.now();
  state.muted = false;
  showMute(false);
  $('timer').textContent = clock((Date.now() - state.answeredAt) / 1000);
  if (answerNews) hubspot.callAnswered(externalId(call));
  show(state, 'calling');
}

// The call is over (hung up here, by the contact, or failed): tell HubSpot, then ask for notes.
export function callFinished(state, endStatus) {
  const { call } = state;
  if (!call || state.phase === 'ended') return;
  const wasConnected = state.phase === 'connected';
  setPhase(state, 'ended');
  if (call.answered_at && !wasConnected && call.direction !== 'inbound') {
    hubspot.callAnswered(externalId(call)); // HubSpot hears the answer before the end, even if we learnt both at once
  }
  hubspot.callEnded(externalId(call), endStatus);
  const seconds = state.answeredAt ? (Date.now() - state.answeredAt) / 1000 : 0;
  $('ended-summary').textContent = endedSummary(call, seconds, ENDED_TEXT[endStatus]);
  $('notes').value = $('call-notes').value; // what was typed during the call (its draft is on the server)
  $('outcome').value = suggestedOutcome(endStatus) || suggestedOutcome(state.answeredAt ? 'COMPLETED' : 'NO_ANSWER');
  $('draft-status').textContent = '';
  state.answeredAt = null;
  if (state.phone) state.phone.disconnect();
  show(state, 'ended');
}

export async function hangUp(state) {
  const { call } = state;
  if (!call || !['dialing', 'connected'].includes(state.phase)) return;
  const status = state.answeredAt ? 'COMPLETED' : 'CANCELED';
  if (state.phone) state.phone.disconnect();
  try {
    await api('POST', '/api/calls/end', { call_id: call.id });
  } catch (err) {
    fail(err);
  }
  callFinished(state, status);
}

export function toggleMute(state) {
  state.muted = !state.muted;
  if (state.phone) state.phone.mute(state.muted);
  showMute(state.muted);
  mirror.share(state); // the other copy of HubSpot's calling window shows it too
}

export function toggleTones() {
  const open = $('tones').hidden;
  $('tones').hidden = !open;
  $('toggle-tones').setAttribute('aria-expanded', String(open));
}

export function sendTone(state, key) {
  if (!state.phone) return;
  state.phone.sendDigits(key);
  say(`Sent ${key}`);
}

export function onEngagementCreated(state, engagementId) {
  // An inbound call's one engagement is the server's (hubspot.incomingCall asks HubSpot for none).
  if (!state.call || state.call.direction === 'inbound') return;
  state.call.engagement_id = engagementId;
  saveEngagement(state.call);
}
