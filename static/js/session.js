// Signing in and out, and what a signed-in widget starts: the socket (presence.js), the phone, our
// WhatsApp numbers and the link to the HubSpot user. The partitioned cookie keeps the session over reloads.
import { api, setToken } from './api.js';
import * as hubspot from './hubspot.js';
import * as inbound from './inbound.js';
import * as mirror from './mirror.js';
import * as outbound from './outbound.js';
import * as presence from './presence.js';
import * as socket from './socket.js';
import { fail } from './calls.js';
import { formatNumber } from './format.js';
import { DEMO, demoPhone, livePhone } from './phone.js';
import { $, apiMessage, say, show, showError } from './screens.js';

const RESUME_TIMEOUT_MS = 2500; // INITIALIZED never waits longer than this for the session

function begin(state, session) {
  setToken(session.token);
  state.agent = session.agent;
  state.available = Boolean(session.agent.available);
}

// A failure or a slow answer means "signed out".
export async function resume(state) {
  try {
    begin(state, await api('POST', '/api/auth/resume', undefined, { timeout: RESUME_TIMEOUT_MS }));
    return true;
  } catch (err) {
    return false;
  }
}

export async function signIn(state, event) {
  event.preventDefault();
  const email = $('login-email').value.trim();
  const password = $('login-password').value;
  if (!email || !password) return showError('Enter your email and password.');
  $('login-submit').disabled = true;
  try {
    const session = await api('POST', '/api/auth/login', { email, password });
    $('login-password').value = '';
    begin(state, session);
    hubspot.loggedIn();
    enterKeypad(state);
    mirror.announceSession(true);
  } catch (err) {
    showError(apiMessage(err));
  } finally {
    $('login-submit').disabled = false;
  }
}

export function enterKeypad(state) {
  showError('');
  $('agent-name').textContent = `Signed in as ${state.agent.name || state.agent.email}`;
  $('available').checked = state.available;
  show(state, 'keypad');
  presence.start(state); // the socket: rings, call status, presence
  startPhone(state);
  sendHubSpotContext(state);
  loadNumbers(state);
}

// Link this agent to the HubSpot user and owner from onReady, so inbound calls can find them.
async function sendHubSpotContext(state) {
  const { portalId, userId, ownerId } = state.hubspot;
  if (portalId === undefined && userId === undefined && ownerId === undefined) return;
  try {
    state.agent = (await api('POST', '/api/auth/hubspot-context', { portalId, userId, ownerId })).agent;
  } catch (err) {
    say(apiMessage(err));
  }
}

export async function logOut(state) {
  try {
    await api('POST', '/api/auth/logout');
  } catch (err) {
    showError(apiMessage(err));
  }
  mirror.announceSession(false);
  signedOut(state, 'You are signed out.');
}

// The other copy of HubSpot's calling window signed in (resume from the shared cookie) or out.
export async function followOtherCopy(state, signedIn) {
  if (signedIn && !state.agent) {
    if (!(await resume(state))) return;
    hubspot.loggedIn();
    enterKeypad(state);
  } else if (!signedIn && state.agent) {
    signedOut(state, 'You signed out in the other copy of the widget.');
  }
}

export function signedOut(state, message) {
  inbound.stop(state);
  socket.close(); // for good: no reconnect until the next sign-in
  if (state.phone) state.phone.destroy();
  state.phone = null;
  setToken(null);
  state.agent = null;
  hubspot.loggedOut();
  show(state, 'login');
  say(message);
}

// The Voice SDK (300 KB) is not needed for the first screen: load it once HubSpot has us.
export function loadVoiceSdk(state) {
  if (state.voiceSdk || !hubspot.ownsCalls()) return;
  state.voiceSdk = new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = document.body.dataset.voiceSdk;
    script.onload = () => resolve(window.Twilio);
    script.onerror = () => reject(new Error('The phone could not load. Reload the widget.'));
    document.head.append(script);
  });
  state.voiceSdk.catch((err) => showError(err.message));
}

// The phone (Twilio.Device live, the demo phone in demo mode), only in the copy that holds calls;
// then a call that was going on before a reload comes back on screen.
async function startPhone(state) {
  if (state.phone || state.phoneStarting || !hubspot.ownsCalls()) return;
  state.phoneStarting = true;
  try {
    loadVoiceSdk(state);
    const phone = DEMO ? await demoPhone() : await livePhone(await state.voiceSdk, { onError: fail });
    if (state.agent) state.phone = phone; else phone.destroy();
  } catch (err) {
    fail(err);
  } finally {
    state.phoneStarting = false;
  }
  if (state.agent) outbound.resume(state);
}

// Our WhatsApp senders; the "From" picker appears once there is a choice to make. Senders Meta does not
// let call out (their country) are left out: they still take inbound calls.
async function loadNumbers(state) {
  try {
    const all = (await api('GET', '/api/numbers')).numbers;
    const numbers = all.filter((n) => n.can_call_out !== false);
    state.numbers = numbers;
    $('no-outbound').textContent = numbers.length ? '' : (all[0] && all[0].no_outbound_reason) || '';
    $('no-outbound').hidden = numbers.length > 0 || !all.length;
    // Business hours: agents see which of our numbers is closed now (its calls do not ring) and when it opens.
    const closed = all.filter((n) => n.closed_now);
    $('hours-note').textContent = closed.map((n) => `${all.length > 1 ? `${n.friendly_name}: c` : 'C'}losed now`
      + (n.opens ? `, opens ${n.opens}` : '')).join(' · ');
    $('hours-note').hidden = !closed.length;
    $('from-number').replaceChildren(...numbers.map((n) => new Option(
      `${n.friendly_name} (${formatNumber(n.e164)})`, n.e164, n.is_default, n.is_default)));
    state.from = numbers.length ? $('from-number').value : null;
    $('from-field').hidden = numbers.length < 2;
  } catch (err) {
    say(apiMessage(err));
  }
}
