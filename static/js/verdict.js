// The server's permission verdict (its codes, changes_at and limits) in the rep's words and local time,
// each rule and time said once. Pure: no DOM, no state.
import { dayTime, timeOf } from './format.js';

// The rule that stops a call now, and when it lifts (null when no limit applies).
export function limitSentence(p) {
  if (p.call_code === 'call_limit_reached') {
    const cap = `${p.connected_calls_per_day} calls connected in 24 h`;
    return p.call_changes_at ? `${cap} — next call possible at ${dayTime(p.call_changes_at)}.`
      : `${cap}, and a call being placed now may take the last one — try again when it ends.`;
  }
  if (p.status === 'revoked') return p.reason; // why WhatsApp withdrew it (4 unanswered calls in a row, ...)
  return null;
}

// After the 3rd unanswered call in a row (one before WhatsApp withdraws the permission).
export function missedWarning(p) {
  const missed = p.consecutive_missed || 0;
  if (p.status !== 'granted' || !missed || missed < (p.missed_before_revoke || 4) - 1) return null;
  return `${missed} calls in a row went unanswered: after one more, WhatsApp withdraws the permission.`;
}

// One line for the keypad: "Can call until Tue 14:00", "Request sent 10:02, waiting", ...
export function stateLine(p) {
  if (p.can_call) return p.permanent ? 'Can call any time' : `Can call until ${dayTime(p.call_changes_at || p.expires_at)}`;
  const limit = limitSentence(p);
  if (limit) return p.status === 'revoked' ? `${limit} Needs a new request` : limit;
  if (p.status === 'pending') return `Request sent ${timeOf(p.requested_at)}, waiting`;
  if (p.status === 'denied') {
    return p.can_request || !p.next_request_at ? 'Declined, you may ask again' : `Declined, ask again after ${dayTime(p.next_request_at)}`;
  }
  const needs = p.status === 'expired' ? 'Permission expired, needs a new request' : 'Needs a request';
  return p.can_request || !p.next_request_at ? needs : `${needs} (possible after ${dayTime(p.next_request_at)})`;
}
