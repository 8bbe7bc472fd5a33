// Showing one screen at a time and filling it from API data; messages for screen readers.
import { ago, clock, formatNumber, timeOf } from './format.js';
import { limitSentence } from './verdict.js';

export const SCREENS = ['loading', 'login', 'keypad', 'permission', 'pending', 'denied', 'dialing',
  'incoming', 'calling', 'ended', 'history', 'missed'];
const FOCUS = { login: 'login-email', keypad: 'number' }; // other screens focus their heading
const DELIVERY = { sent: 'Sent.', delivered: 'Delivered.', read: 'Read.', failed: 'Not delivered.',
  undelivered: 'Not delivered.' };
const SYNC = { none: 'Not saved to HubSpot', pending: 'Saving to HubSpot…', synced: 'Saved to HubSpot',
  failed: 'HubSpot refused it' };
export const $ = (id) => document.getElementById(id);

// Each screen owns its messages: the status line of the last screen does not carry over.
// A ring never pulls the focus into the widget while the rep works elsewhere in HubSpot (it is announced in
// the status line and by HubSpot's own notification); any other screen takes it, as the rep asked for it.
export function show(state, screen) {
  if (screen !== state.screen) say('');
  SCREENS.forEach((name) => { $(`screen-${name}`).hidden = name !== screen; });
  state.screen = screen;
  if (screen !== 'incoming' || document.hasFocus()) $(FOCUS[screen] || `h-${screen}`).focus();
  state.showListeners.forEach((fn) => fn(screen));
}

// fn(screen) is told about every screen change (the calling window's mirror).
export const onShow = (state, fn) => state.showListeners.push(fn);

export function bind(name, text) {
  document.querySelectorAll(`[data-bind="${name}"]`).forEach((el) => { el.textContent = text; });
}

// Availability on the keypad: a banner says when incoming calls are off (nothing rings).
export function showAvailability(available) {
  $('available').checked = available;
  $('unavailable').hidden = available;
}

// Mute as the agent sees it: the label says what pressing does (Mute / Unmute), the button turns red
// with a crossed-out microphone, and a line under the timer says the contact cannot hear them.
export function showMute(muted) {
  const button = $('mute');
  button.classList.toggle('on', muted);
  button.querySelector('.icon').textContent = muted ? '🔇' : '🎙';
  button.querySelector('.label').textContent = muted ? 'Unmute' : 'Mute';
  $('mute-state').hidden = !muted;
}

export const say = (message) => { $('status').textContent = message; };

export function showError(message) {
  $('error').textContent = message || '';
  $('error').hidden = !message;
}

// Who the call is with: the name when we know it, with the number once under it; else the number alone.
export function setParty(phone, name) {
  bind('phone', formatNumber(phone));
  bind('party', name || formatNumber(phone));
  bind('party-number', name ? formatNumber(phone) : '');
}

export const partyOf = (call) => (call.direction === 'inbound' ? call.from : call.to);
const nameOf = (call) => (call.contact && call.contact.name) || '';

// The ended screen's line: name, number, how long, how it ended ("Dana Demo · +44 740 012 3456 · 01:15 · No answer").
export function endedSummary(call, seconds, words) {
  return [nameOf(call), formatNumber(partyOf(call)), clock(seconds), words].filter(Boolean).join(' · ');
}

// An API failure as a sentence, with the time when trying again becomes possible.
export function apiMessage(err) {
  const message = (err && err.message) || 'Something went wrong.';
  if (!err || !err.retryAt) return message;
  return `${message.replace(/\s*try again later\.?$/i, '').replace(/\.?$/, '.')} Try again at ${timeOf(err.retryAt)}.`;
}

// Fill the permission screens; returns the one that fits the contact's status ('keypad' = may call).
export function renderPermission(permission, sentAt) {
  if (permission.can_call) return 'keypad';
  const later = permission.next_request_at ? `at ${timeOf(permission.next_request_at)}` : 'later';
  if (permission.status === 'pending') {
    const since = permission.requested_at || sentAt;
    $('pending-since').textContent = since ? ago(since) : '';
    $('pending-delivery').textContent = DELIVERY[permission.request_delivery]
      || (permission.request_error ? `Not delivered: ${permission.request_error}` : '');
    return 'pending';
  }
  if (permission.status === 'denied') {
    $('denied-retry').textContent = permission.can_request ? 'You may ask again now.'
      : `${permission.request_reason || 'They declined recently.'} You can ask again ${later}.`;
    $('request-again').disabled = !permission.can_request;
    return 'denied';
  }
  // Allowed, but a limit stops calls now (5 connected in 24 h): the rule and when it lifts, no request to send.
  const limited = permission.status === 'granted';
  const limit = limitSentence(permission);
  $('h-permission').textContent = limited ? 'Call limit reached' : 'Ask before calling';
  $('permission-intro').hidden = limited;
  $('request-permission').hidden = limited;
  const why = { expired: 'Their permission has expired. ', revoked: limit ? `${limit} ` : '' };
  let text = (why[permission.status] || '') + 'They get one WhatsApp message with Accept and Decline buttons.';
  if (limited) text = limit || 'No more calls to this contact are possible now.';
  else if (!permission.can_request) {
    text = `${permission.request_reason || 'The request limit is reached.'} The next request is possible ${later}.`;
  }
  $('request-reason').textContent = text;
  $('request-permission').disabled = !permission.can_request;
  renderInvite(permission.invite);
  return 'permission';
}

// Issue 15: a "Call us" message (a call the contact starts needs no permission), when the server offers it.
function renderInvite(invite) {
  const offered = Boolean(invite && invite.available);
  $('send-invite').hidden = !offered;
  $('invite-reason').hidden = !offered;
  if (!offered) return;
  $('send-invite').disabled = !invite.can_invite;
  let text = 'Or send a WhatsApp message with a "Call us" button: a call they start needs no permission.';
  if (invite.sent_at) text = `Invite sent ${timeOf(invite.sent_at)}.`;
  if (!invite.can_invite && invite.next_invite_at) text += ` The next invite is possible at ${timeOf(invite.next_invite_at)}.`;
  $('invite-reason').textContent = text;
}

// HubSpot's caller-ID match for an incoming call (a contact or a company).
export function describeCaller(match) {
  const name = match.name || [match.firstName, match.lastName].filter(Boolean).join(' ');
  if (name) {
    bind('party', name);
    bind('party-number', document.querySelector('[data-bind="phone"]').textContent);
  }
  $('caller-contact').textContent = match.callerIdType === 'COMPANY' ? 'Company in HubSpot'
    : `Contact in HubSpot${match.email ? ` · ${match.email}` : ''}`;
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  el.textContent = text;
  return el;
}

// Twilio's call statuses as a rep says them.
const STATUS_WORDS = { completed: 'Answered', 'no-answer': 'No answer', busy: 'Declined', failed: 'Failed',
  canceled: 'Cancelled', 'in-progress': 'On call', ringing: 'Ringing', initiated: 'Calling', queued: 'Calling' };
export function statusWords(call) {
  if (call.direction === 'inbound' && !call.answered_at && call.ended_at) return 'Missed';
  return STATUS_WORDS[call.status] || call.status;
}

function historyItem(call) {
  const inbound = call.direction === 'inbound';
  const number = formatNumber(partyOf(call));
  const who = nameOf(call) || number;
  const title = `${inbound ? 'From' : 'To'} ${who}`;
  const item = document.createElement('li');
  item.append(element('strong', '', title), element('span', 'muted',
    [nameOf(call) ? number : '', timeOf(call.started_at), statusWords(call),
      call.answered_at ? clock(call.duration_seconds || 0) : ''].filter(Boolean).join(' · ')));
  if (call.ended_at) {
    const redial = element('button', 'link', 'Redial');
    redial.type = 'button';
    redial.dataset.redial = partyOf(call);
    redial.setAttribute('aria-label', `Redial ${who}`);
    item.append(redial);
  }
  const sync = call.sync || {};
  if (sync.status) item.append(element('span', `sync sync-${sync.status}`, SYNC[sync.status] || sync.status));
  if (sync.error) item.append(element('span', 'muted', sync.error));
  if (sync.status === 'failed' || (sync.status === 'none' && call.ended_at)) {
    const retry = element('button', 'link', 'Retry');
    retry.type = 'button';
    retry.dataset.retry = call.id;
    retry.setAttribute('aria-label', `Retry saving the call ${title} to HubSpot`);
    item.append(retry);
  }
  return item;
}

export function renderHistory(calls) {
  $('history-list').replaceChildren(...calls.map(historyItem));
  $('history-empty').hidden = calls.length > 0;
}
