// Availability and the socket's life: opened after sign-in by the copy that holds calls
// (hubspot.ownsCalls()), closed on sign-out; after every (re)connect presence is sent again.
// The other copy of HubSpot's calling window only stores the availability toggle.
import { api, currentToken } from './api.js';
import * as hubspot from './hubspot.js';
import * as mirror from './mirror.js';
import * as socket from './socket.js';
import { $, apiMessage, say, showError } from './screens.js';

const RETRY_AUTH_MS = 5000;
const tellHubSpot = (on) => (on ? hubspot.available() : hubspot.unavailable());

export function listen(state) {
  socket.onMessage('open', () => {
    if (!state.agent) return;
    socket.send({ type: 'presence', available: state.available });
    if ($('status').textContent.startsWith('Connection lost')) say('Connected again.');
  });
  socket.onMessage('close', () => { if (state.agent) say('Connection lost. Reconnecting…'); });
  socket.onMessage('unauthorized', checkSession);
}

// After sign-in or resume: open the socket and tell HubSpot whether this agent takes calls.
export function start(state) {
  if (!hubspot.ownsCalls()) return;
  socket.connect(currentToken());
  tellHubSpot(state.available);
}

// The availability toggle: stored by the server (socket, else HTTP) and told to HubSpot. In the remote
// copy of HubSpot's calling window it is stored over HTTP and handed to the window copy, which holds
// the socket (and re-sends presence on every reconnect, so it must not keep a stale value).
export async function setAvailable(state, on) {
  state.available = on;
  $('available').checked = on;
  say(on ? 'You can receive calls.' : 'Incoming calls are off.');
  if (mirror.isRemote()) mirror.forward('available', { on });
  else if (hubspot.ownsCalls()) tellHubSpot(on);
  if (socket.send({ type: 'presence', available: on })) return;
  try {
    await api('POST', '/api/presence', { available: on });
  } catch (err) {
    showError(apiMessage(err));
  }
}

// A 4401 close: if the session really ended, api.js signs the widget out; otherwise try again later.
async function checkSession() {
  try {
    await api('GET', '/api/auth/me');
    setTimeout(() => socket.connect(currentToken()), RETRY_AUTH_MS);
  } catch (err) {
    say(apiMessage(err));
  }
}
