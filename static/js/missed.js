// Missed inbound calls: a count badge on the keypad (refreshed when the server says a call was missed, on
// every reconnect and every return to the keypad) and the Missed list with the caller's name and Call back,
// and a voicemail the caller left ("Voicemail 0:23") with a player fed by our authenticated recording link.
import { api } from './api.js';
import * as socket from './socket.js';
import { formatNumber, timeOf } from './format.js';
import { $, apiMessage, show, showError } from './screens.js';

export function listen(state) {
  socket.onMessage('missed_call', () => refresh(state));
  socket.onMessage('open', () => refresh(state));
}

// The list and the badge from the server (the agent may see calls missed while the widget was closed).
export async function refresh(state) {
  if (!state.agent) return;
  try {
    const { calls, unseen } = await api('GET', '/api/calls/missed');
    state.missed = calls;
    badge(unseen);
    if (state.screen === 'missed') render(calls);
  } catch (err) {
    if (state.screen === 'missed') showError(apiMessage(err));
  }
}

function badge(unseen) {
  $('missed-badge').textContent = String(unseen);
  $('missed-badge').hidden = !unseen;
  $('show-missed').setAttribute('aria-label', unseen ? `Missed calls, ${unseen} new` : 'Missed calls');
}

// Opening the list marks what it shows as seen: the badge clears.
export async function open(state) {
  show(state, 'missed');
  render(state.missed);
  await refresh(state);
  const [newest] = state.missed;
  if (!newest) return;
  try {
    badge((await api('POST', '/api/calls/missed/seen', { up_to: newest.id })).unseen);
  } catch (err) {
    showError(apiMessage(err));
  }
}

function item(call) {
  const name = call.contact && call.contact.name;
  const li = document.createElement('li');
  const who = document.createElement('strong');
  who.textContent = name || formatNumber(call.from);
  const what = document.createElement('span');
  what.className = 'muted';
  what.textContent = [name ? formatNumber(call.from) : '', timeOf(call.started_at), call.reason].filter(Boolean).join(' · ');
  const back = document.createElement('button');
  back.type = 'button';
  back.className = 'link';
  back.textContent = 'Call back';
  back.dataset.callback = call.from;
  back.setAttribute('aria-label', `Call back ${name || formatNumber(call.from)}`);
  li.append(who, what);
  if (call.voicemail) li.append(voicemail(call, name || formatNumber(call.from)));
  li.append(back);
  return li;
}

// 23 -> "0:23", 125 -> "2:05"
const length = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;

// "Voicemail 0:23" and Play; the player's src is a short-lived link the server gives for this call only.
function voicemail(call, who) {
  const box = document.createElement('span');
  box.className = 'voicemail';
  const label = document.createElement('span');
  label.textContent = `Voicemail ${length(call.voicemail.seconds)}`;
  const play = document.createElement('button');
  play.type = 'button';
  play.className = 'link';
  play.textContent = 'Play';
  play.dataset.voicemail = String(call.id);
  play.setAttribute('aria-label', `Play the voicemail from ${who}`);
  play.addEventListener('click', () => playVoicemail(call, who, box, play));
  box.append(label, play);
  return box;
}

async function playVoicemail(call, who, box, play) {
  play.disabled = true;
  try {
    const { url } = await api('GET', `/api/calls/${call.id}/voicemail`);
    const audio = document.createElement('audio');
    audio.controls = true;
    audio.preload = 'auto';
    audio.src = url;
    audio.setAttribute('aria-label', `Voicemail from ${who}`);
    play.replaceWith(audio);
    audio.play().catch(() => {}); // a browser may refuse autoplay: the controls are there
  } catch (err) {
    play.disabled = false;
    showError(apiMessage(err));
  }
  return box;
}

function render(calls) {
  $('missed-list').replaceChildren(...calls.map(item));
  $('missed-empty').hidden = calls.length > 0;
}
