// Outbound WhatsApp calls: HubSpot's DIAL_NUMBER (or the keypad) -> /api/calls/initiate -> the phone
// dials -> the server's call status (socket, polled as a fallback) drives the screens and HubSpot.
import { api } from './api.js';
import * as hubspot from './hubspot.js';
import * as socket from './socket.js';
import { callConnected, callFinished, endOnServer, externalId, fail, merge, setPhase } from './calls.js';
import { $, apiMessage, renderPermission, say, setParty, show, showError } from './screens.js';
import { needsWrapUp, restore } from './wrapup.js';

const LIVE = ['queued', 'initiated', 'ringing', 'in-progress'];
const END_STATUS = { completed: 'COMPLETED', busy: 'BUSY', 'no-answer': 'NO_ANSWER', failed: 'FAILED', canceled: 'CANCELED' };
const POLL_MS = 1000;

// The HubSpot record HubSpot asked us to dial (calleeInfo names the contact, objectId the viewed record).
function hubspotRecord(state, phone) {
  const dial = state.dial && state.dial.phone === phone ? state.dial : {};
  const callee = dial.calleeInfo || {};
  return { engagementId: state.hubspot.engagementId, portalId: state.hubspot.portalId,
    objectId: callee.calleeId ?? dial.objectId, objectType: callee.calleeObjectTypeId ?? dial.objectType };
}

// Dial: microphone first (nothing is placed without one), then our call record, then HubSpot hears
// OUTGOING_CALL_STARTED and the phone dials. Progress comes from the server (onCallStatus).
// The dialing screen shows while our call record is made; the phase is dialing once it exists.
export async function startOutgoingCall(state, phone) {
  if (!state.phone) return showError('The phone is still starting. Try again in a moment.');
  if (state.call) return showError('Finish the current call first.');
  try {
    await state.phone.prepare();
  } catch (err) {
    return fail(err);
  }
  hubspot.forgetEngagement();
  setParty(phone);
  showError('');
  show(state, 'dialing');
  let started;
  try {
    started = await api('POST', '/api/calls/initiate',
      { phone, from: state.from || undefined, hubspot: hubspotRecord(state, phone) });
  } catch (err) {
    if (err.details && err.details.permission) {
      state.permission = err.details.permission;
      show(state, renderPermission(err.details.permission, null));
    } else {
      show(state, 'keypad');
    }
    return fail(err);
  }
  const { call, voice } = started;
  state.call = call;
  setPhase(state, 'dialing');
  state.answeredAt = null;
  hubspot.outgoingCall(externalId(call), call.to, call.from);
  follow(state, call);
  nameContact(state, call);
  try {
    const answer = await state.phone.connect(voice.params);
    if (answer && answer.spoken && state.call === call) showError(answer.spoken); // refused: the status says why
  } catch (err) {
    if (state.call !== call || state.phase === 'ended') return;
    fail(err);
    await endOnServer(call);
    callFinished(state, 'FAILED');
  }
}

// HubSpot's name for the contact (looked up by the server on the number it recorded), on every call screen.
async function nameContact(state, call) {
  try {
    const { contact } = await api('GET', `/api/calls/${call.id}/contact`);
    if (!contact || !contact.name || state.call !== call) return;
    call.contact = contact;
    setParty(call.to, contact.name); // the ended screen's line reads call.contact when the call ends
  } catch (err) {
    // the number stands in for the name
  }
}

// The server's view of our outbound call (routed here by widget.js, from the socket or the poll below).
export function onCallStatus(state, update) {
  const { call } = state;
  if (state.phase === 'ended') return;
  merge(call, update);
  if (update.status === 'ringing' && state.screen === 'dialing') say('Ringing…');
  if (update.answered_at && !state.answeredAt) callConnected(state, update.answered_at);
  const endStatus = END_STATUS[update.status];
  if (!endStatus) return;
  if (update.error_message) {
    showError(update.error_message);
    hubspot.sendError(update.error_message);
  }
  callFinished(state, endStatus);
}

// Polls /api/calls/status every second while the call is live: nothing hangs on a lost socket message.
// Each answer goes to the one call_status subscriber (widget.js), as if the socket had brought it.
function follow(state, call) {
  const live = () => state.call === call && state.phase !== 'ended';
  const poll = async () => {
    if (!live()) return;
    try {
      const update = (await api('GET', `/api/calls/status/${call.id}`)).call;
      socket.deliver({ type: 'call_status', call: update });
    } catch (err) {
      if (err.status === 404) callFinished(state, 'FAILED');
    }
    if (live()) setTimeout(poll, POLL_MS);
  };
  setTimeout(poll, POLL_MS);
}

// After a reload: the agent's newest call, if still going (dialled here, or an incoming call this agent
// answered), comes back on screen. HubSpot already knows it (the widget told it before the reload).
// Live, the browser's audio leg went with the page: hanging up still ends the call through Twilio.
// A call that ended without being saved or discarded brings back its ended screen with the draft.
export async function resume(state) {
  if (state.call) return;
  try {
    const [call] = (await api('GET', '/api/calls?limit=1')).calls;
    const incoming = call && call.direction === 'inbound';
    if (!state.call && needsWrapUp(call) && !LIVE.includes(call.status)) return restore(state, call);
    if (!call || !LIVE.includes(call.status) || (incoming && !call.answered_at) || state.call) return;
    state.call = { ...call };
    $('call-notes').value = call.notes || '';
    setPhase(state, 'dialing');
    if (call.engagement_id) state.hubspot.engagementId = Number(call.engagement_id);
    setParty(incoming ? call.from : call.to, call.contact && call.contact.name);
    if (call.answered_at) callConnected(state, call.answered_at, { tellHubSpot: false });
    else show(state, 'dialing');
    say('Your call is still going.');
    follow(state, state.call);
  } catch (err) {
    say(apiMessage(err));
  }
}

