// Incoming WhatsApp calls: ringing, accept and decline, a call another agent took or nobody answered.
// Only the copy that holds calls (hubspot.ownsCalls()) rings and talks to HubSpot.
import { api } from './api.js';
import * as hubspot from './hubspot.js';
import * as socket from './socket.js';
import { callConnected, callFinished, endOnServer, externalId, fail, merge, offered, setPhase } from './calls.js';
import { formatNumber } from './format.js';
import * as mirror from './mirror.js';
import { DEMO } from './phone.js';
import { $, apiMessage, describeCaller, say, setParty, show, showError } from './screens.js';

// Live, Twilio rings this browser (a <Client> leg) and the phone picks up; the demo phone has no
// media, so the simulated Twilio is told instead (a test may attach a Twilio phone in demo mode too).
const viaTwilio = (state) => !DEMO || Boolean(state.phone && state.phone.kind === 'twilio');
const UNANSWERED = ['no-answer', 'busy', 'failed', 'canceled'];
const RING_CHECK_MS = 35000; // Twilio rings 25 s; a ring still up later lost its end (a socket message)
const INVITE_WAIT_MS = 5000; // live: how long Accept waits for Twilio's invite to reach this browser

// Rings and what follows: the socket's messages (listen, and call_status routed here by widget.js)
// keep the ring true to the server.
export function listen(state) {
  socket.onMessage('open', () => { if (state.agent) checkRinging(state); }); // rings are not replayed
  socket.onMessage('incoming_call', (message) => ring(state, message));
  socket.onMessage('call_claimed', (message) => onClaimed(state, message));
  socket.onMessage('call_contact', (message) => onContact(state, message));
}

// Signing out: a ringing call is let go (HubSpot's engagement is closed).
export function stop(state) {
  if (offered(state)) endRing(state, 'MISSED', '');
}

// What the server rings for us now: end a ring it has dropped, show one we have missed.
async function checkRinging(state) {
  try {
    const { calls } = await api('GET', '/api/calls/ringing');
    if (state.phase === 'ringing' && !calls.some((message) => message.call.id === state.call.id)) {
      endRing(state, 'MISSED', 'The call stopped ringing.');
    }
    if (calls.length) ring(state, calls[0]);
  } catch (err) {
    say(apiMessage(err));
  }
}

// Ring: the incoming screen with the caller and their HubSpot contact, and INCOMING_CALL to HubSpot.
export function ring(state, { call, contact }) {
  if (!hubspot.ownsCalls() || !state.agent || !call || call.status !== 'ringing') return;
  if (state.call) return; // on another call: the server offers this one to the other agents too
  watchInvites(state);
  state.call = { ...call, record: contactRecord(state, contact) };
  setPhase(state, 'ringing');
  hubspot.forgetEngagement();
  showContact(call, contact);
  showError('');
  hubspot.incomingCall(externalId(state.call), call.from, call.to);
  const ringing = state.call;
  setTimeout(() => { if (state.call === ringing && offered(state)) checkRinging(state); }, RING_CHECK_MS);
  show(state, 'incoming');
  say(`Incoming WhatsApp call from ${(contact && contact.name) || formatNumber(call.from)}.`);
}

function contactRecord(state, contact) {
  return contact && /^\d+$/.test(String(contact.id))
    ? { portalId: state.hubspot.portalId, objectId: Number(contact.id), objectTypeId: '0-1' } : null;
}

function showContact(call, contact) {
  setParty(call.from, contact && contact.name);
  $('caller-contact').textContent = contact
    ? `HubSpot contact${contact.email ? ` · ${contact.email}` : ''}` : 'Not found in HubSpot';
}

// The ring does not wait for HubSpot: the caller's contact arrives here when the look-up ends.
function onContact(state, { call_id: callId, contact }) {
  const { call } = state;
  if (!call || call.id !== callId || !contact) return;
  if (!call.record) call.record = contactRecord(state, contact);
  if (offered(state)) {
    showContact(call, contact);
    say(`Incoming WhatsApp call from ${contact.name || formatNumber(call.from)}.`);
    mirror.share(state); // HubSpot's calling window: the other copy names the caller too
  }
  if (state.answeredAt) openRecord(state);
}

// HubSpot's CALLER_ID_MATCH_SUCCEEDED: show who it is, and remember the record to open.
export function callerMatched(state, { callerIdMatches = [] }) {
  const match = callerIdMatches[0];
  if (!match || !state.call || state.call.direction !== 'inbound') return;
  if (offered(state)) describeCaller(match);
  if (match.objectCoordinates) state.call.record = match.objectCoordinates;
  if (state.answeredAt) openRecord(state);
}

function openRecord(state) {
  const { call } = state;
  if (!call.record || call.recordOpened) return;
  call.recordOpened = true;
  hubspot.navigateToRecord(call.record);
}

// Live: Twilio's invite (the <Client> leg) can reach this browser a moment after our socket's ring.
function watchInvites(state) {
  const { phone } = state;
  if (!phone || phone.kind !== 'twilio' || state.watchedPhones.has(phone)) return;
  state.watchedPhones.add(phone);
  phone.onIncoming(({ callId }) => state.invites.add(String(callId)));
}

// Claim only once this browser can pick up: claiming stops the other agents' ringing.
function invited(state, call) {
  watchInvites(state);
  const deadline = Date.now() + INVITE_WAIT_MS;
  return new Promise((resolve) => {
    const check = () => {
      // state.call !== call: the ring ended while we waited
      if (state.invites.has(String(call.id)) || Date.now() >= deadline || state.call !== call) resolve();
      else setTimeout(check, 100);
    };
    check();
  });
}

// Accept: claim the call (the first agent wins), then pick it up on the phone.
export async function accept(state) {
  const { call } = state;
  if (!call || state.phase !== 'ringing') return;
  if (viaTwilio(state) && !state.phone) return showError('The phone is still starting. Try again in a moment.');
  setPhase(state, 'accepting');
  if (viaTwilio(state)) await invited(state, call);
  if (state.call !== call) return; // stopped ringing while we waited
  try {
    merge(call, (await api('POST', `/api/calls/${call.id}/accept`)).call);
  } catch (err) {
    if (state.call !== call) return;
    if (err.status === 409 || err.status === 404) {
      return endRing(state, 'MISSED', err.code === 'already_claimed' ? 'Taken by another agent.' : 'The call stopped ringing.');
    }
    setPhase(state, 'ringing'); // Accept can be pressed again
    return showError(apiMessage(err));
  }
  if (state.call !== call) return; // the caller hung up meanwhile
  setPhase(state, 'dialing'); // claimed: the call is ours, and this browser picks it up
  state.invites.delete(String(call.id));
  try {
    if (viaTwilio(state)) await state.phone.accept(call);
    else await api('POST', '/dev/api/voice/inbound-answer', { call_id: call.id });
  } catch (err) {
    return pickUpFailed(state, call, err);
  }
  answered(state);
}

function answered(state) {
  if (!state.answeredAt) callConnected(state);
  openRecord(state);
}

// Claimed but not connected: hang up through Twilio so the caller is not left waiting.
async function pickUpFailed(state, call, err) {
  if (state.call !== call || state.phase === 'ended') return;
  fail(err);
  await endOnServer(call);
  callFinished(state, 'FAILED');
}

// Decline: HubSpot hears CANCELED (as in HubSpot's own demo); the others may still take the call.
export async function decline(state) {
  const { call } = state;
  if (!call || state.phase !== 'ringing') return;
  if (viaTwilio(state) && state.phone) state.phone.reject(call);
  endRing(state, 'CANCELED', 'Call declined.');
  try {
    await api('POST', `/api/calls/${call.id}/decline`);
  } catch (err) {
    say(apiMessage(err));
  }
}

// A ring that ends without this agent answering: close HubSpot's engagement (no ghost call, SDK #46).
function endRing(state, endStatus, note) {
  const { call } = state;
  hubspot.callEnded(externalId(call), endStatus);
  hubspot.callCompleted(externalId(call), {});
  setPhase(state, null);
  show(state, 'keypad');
  say(note);
}

function onClaimed(state, { call_id: callId }) {
  if (state.call && state.call.id === callId && offered(state)) endRing(state, 'MISSED', 'Taken by another agent.');
}

// The server's view of our inbound call (routed here by widget.js, from the socket or from outbound.js's
// poll for a call resumed after a reload): missed while ringing, answered, or hung up by the caller.
export function onCallStatus(state, update) {
  const { call } = state;
  merge(call, update);
  if (offered(state)) {
    if (UNANSWERED.includes(update.status)) endRing(state, 'MISSED', `Missed call from ${formatNumber(call.from)}.`);
    return;
  }
  if (update.status === 'in-progress' && call.agent_id === state.agent.id) answered(state);
  if (update.status === 'completed' || UNANSWERED.includes(update.status)) {
    callFinished(state, state.answeredAt ? 'COMPLETED' : 'MISSED');
  }
}
