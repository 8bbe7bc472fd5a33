// The call's wrap-up: notes (typed during the call or after it) and the outcome are kept on the server as
// they are typed (a debounced PUT /api/calls/<id>/draft), so a reload loses nothing; the ended screen comes
// back after a reload until the call is saved (queued for HubSpot) or deliberately discarded.
import { api } from './api.js';
import * as hubspot from './hubspot.js';
import { externalId, setPhase, suggestedOutcome } from './calls.js';
import { $, apiMessage, endedSummary, say, show, showError } from './screens.js';

const DRAFT_MS = 600;
const END_STATUS = { completed: 'COMPLETED', busy: 'BUSY', 'no-answer': 'NO_ANSWER', failed: 'FAILED', canceled: 'CANCELED' };
const END_WORDS = { completed: '', busy: 'declined', 'no-answer': 'no answer', failed: 'failed', canceled: 'cancelled' };

// What the agent has typed for the call on screen: the ended screen's fields, or the notes of the call.
function current(state) {
  const notes = state.phase === 'ended' ? $('notes').value : $('call-notes').value;
  return { notes, outcome: state.phase === 'ended' ? $('outcome').value : (state.call.outcome || '') };
}

// Typing: keep it on the server once the agent pauses.
export function changed(state) {
  const { draft } = state;
  if (!state.call || !['connected', 'ended'].includes(state.phase)) return;
  clearTimeout(draft.timer);
  $('draft-status').textContent = '';
  draft.timer = setTimeout(() => flush(state), DRAFT_MS);
}

// Send the draft now (leaving the page: keepalive lets it outlive the frame).
export async function flush(state, { keepalive = false } = {}) {
  const { draft } = state;
  clearTimeout(draft.timer);
  draft.timer = null;
  const { call } = state;
  if (!call || !['connected', 'ended'].includes(state.phase)) return;
  const body = current(state);
  const key = `${call.id}\n${body.notes}\n${body.outcome}`;
  if (key === draft.sent) return;
  try {
    await api('PUT', `/api/calls/${call.id}/draft`, body, { keepalive });
    draft.sent = key;
    call.notes = body.notes;
    if (state.call === call) $('draft-status').textContent = 'Draft saved';
  } catch (err) {
    if (state.call === call && err.code !== 'wrapup_closed') $('draft-status').textContent = `Draft not saved: ${apiMessage(err)}`;
  }
}

// After a reload: the newest call ended without being saved or discarded comes back on the ended screen.
export const needsWrapUp = (call) => Boolean(call && call.ended_at && !call.wrapup
  && (!call.sync || call.sync.status === 'none'));

export function restore(state, call) {
  state.call = { ...call };
  setPhase(state, 'ended');
  if (call.engagement_id) state.hubspot.engagementId = Number(call.engagement_id);
  $('ended-summary').textContent = endedSummary(call, call.duration_seconds || 0, END_WORDS[call.status]);
  $('notes').value = call.notes || '';
  $('outcome').value = call.outcome || suggestedOutcome(call.answered_at ? 'COMPLETED' : END_STATUS[call.status]);
  state.draft.sent = `${call.id}\n${$('notes').value}\n${$('outcome').value}`;
  show(state, 'ended');
  say('This call is not saved yet: add your notes and save it, or discard them.');
}

// Save: our server queues the HubSpot write (never lost); HubSpot's own engagement is completed too.
// Returns the saved call, or null when saving failed (the notes stay on screen).
export async function save(state) {
  const { call } = state;
  if (!call || state.phase !== 'ended') return null;
  clearTimeout(state.draft.timer);
  const notes = $('notes').value.trim();
  const outcome = $('outcome').value;
  $('save-call').disabled = true;
  $('save-redial').disabled = true;
  try {
    await api('POST', `/api/calls/${call.id}/complete`, { notes, outcome });
  } catch (err) {
    showError(apiMessage(err));
    return null;
  } finally {
    $('save-call').disabled = false;
    $('save-redial').disabled = false;
  }
  hubspot.callCompleted(externalId(call), { hs_call_body: notes, hs_call_disposition: outcome });
  finish(state);
  say('Call saved to HubSpot.');
  return call;
}

// Discard asks first: the notes go, the call stays in history (not saved to HubSpot).
export function askDiscard() {
  $('discard-confirm').hidden = false;
  $('discard-call').setAttribute('aria-expanded', 'true');
  $('discard-yes').focus();
}

export function closeConfirm() {
  $('discard-confirm').hidden = true;
  $('discard-call').setAttribute('aria-expanded', 'false');
}

export async function discard(state) {
  const { call } = state;
  if (!call || state.phase !== 'ended') return;
  clearTimeout(state.draft.timer);
  try {
    await api('POST', `/api/calls/${call.id}/discard`);
  } catch (err) {
    return showError(apiMessage(err));
  }
  hubspot.callCompleted(externalId(call), {}); // HubSpot's engagement is closed, without our notes
  finish(state);
  say('Notes discarded. The call stays in your history.');
}

// Escape on the ended screen: ask to discard; Escape again keeps the notes.
export function escape() {
  if ($('discard-confirm').hidden) askDiscard();
  else {
    closeConfirm();
    $('discard-call').focus();
  }
}

function finish(state) {
  showError('');
  closeConfirm();
  setPhase(state, null);
  show(state, 'keypad');
}
