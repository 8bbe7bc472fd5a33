// The widget: one state object, one screen at a time, one small function per user action.
import { api, setToken, whenUnauthorized } from './api.js';
import * as hubspot from './hubspot.js';
import * as calls from './calls.js';
import * as inbound from './inbound.js';
import * as outbound from './outbound.js';
import * as mirror from './mirror.js';
import * as socket from './socket.js';
import { demoPhone, livePhone } from './phone.js';
import { clock, formatNumber, isPlausible, reformatInput, toE164 } from './format.js';
import { $, apiMessage, renderHistory, renderPermission, say, setParty, show, showError } from './screens.js';

const DEMO = document.body.dataset.mode === 'demo';
const RESUME_TIMEOUT_MS = 2500; // INITIALIZED never waits longer than this for the session
const ID = {
  app: 'app', loginForm: 'login-form', email: 'login-email', password: 'login-password', loginSubmit: 'login-submit',
  available: 'available', agentName: 'agent-name', fromField: 'from-field', fromNumber: 'from-number',
  number: 'number', dialed: 'dialed', pad: 'pad', backspace: 'backspace', call: 'call', showHistory: 'show-history',
  logout: 'logout', requestPermission: 'request-permission', requestAgain: 'request-again', cancelCall: 'cancel-call',
  accept: 'accept', decline: 'decline', timer: 'timer', mute: 'mute', toggleTones: 'toggle-tones', tones: 'tones',
  hangup: 'hangup', wrapupForm: 'wrapup-form', historyList: 'history-list', ready: 'ready',
};
const BACK_SCREENS = ['permission', 'pending', 'denied', 'history'];
const PERMISSION_SCREENS = ['permission', 'pending', 'denied'];
const PENDING_POLL_MS = 3000; // the socket's permission_updated is the fast path; this is the fallback

export const state = {
  screen: 'loading',
  agent: null,
  hubspot: hubspot.context, // portalId, userId, ownerId, iframeLocation, usesCallingWindow, hostUrl, engagementId
  dial: null, // HubSpot's DIAL_NUMBER: phone, calleeInfo, objectId, objectType, portalId, ownerId
  phone: null, // Twilio Device (or the demo phone), attached by the phone module
  voiceSdk: null, // Promise of window.Twilio, loaded after INITIALIZED
  numbers: [], from: null, available: false, hidden: false,
  permission: null, requestSentAt: null,
  call: null, answeredAt: null, muted: false, history: [],
};
let resumed = Promise.resolve(false);
let lastHeight = 0;

// Entry points for the phone and socket modules.
export const attachPhone = (phone) => { state.phone = phone; };
// In HubSpot's calling window only the window copy dials; the remote copy hands it the number.
export const startOutgoingCall = (phone) => (mirror.isRemote()
  ? mirror.forward('dial', { phone, from: state.from }) : outbound.startOutgoingCall(state, phone));
export const onIncomingCall = (message) => inbound.ring(state, message);
export const callConnected = () => calls.callConnected(state);
export const callFinished = (endStatus) => calls.callFinished(state, endStatus);

// ---- HubSpot's messages ----------------------------------------------------------------------
const sdkHandlers = {
  onReady,
  onUntrustedHost: (hostUrl) => showError(`This widget only runs inside HubSpot, not ${hostUrl || 'this page'}.`),
  onDialNumber,
  onEngagementCreated: (engagementId) => calls.onEngagementCreated(state, engagementId),
  onCallerIdMatch: (data) => inbound.callerMatched(state, data),
  onVisibilityChanged: ({ isMinimized, isHidden }) => {
    state.hidden = Boolean(isMinimized || isHidden);
    if (!state.hidden) sendSize(true);
  },
  onEndCall: () => calls.hangUp(state),
  onFailure: showError,
};

async function onReady() {
  const signedIn = await resumed;
  hubspot.initialized(signedIn, state.available);
  if (signedIn) enterKeypad(); else show(state, 'login');
  mirror.start(state, runForwarded);
  new ResizeObserver(() => sendSize()).observe($(ID.app));
  loadVoiceSdk();
}

// The partitioned cookie may still hold a session; a failure or a slow answer means "signed out".
async function resumeSession() {
  try {
    const session = await api('POST', '/api/auth/resume', undefined, { timeout: RESUME_TIMEOUT_MS });
    setToken(session.token);
    state.agent = session.agent;
    state.available = Boolean(session.agent.available);
    return true;
  } catch (err) {
    return false;
  }
}

// The Voice SDK (300 KB) is not needed for the first screen: load it once HubSpot has us.
function loadVoiceSdk() {
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

function sendSize(force = false) {
  const height = Math.ceil($(ID.app).getBoundingClientRect().height);
  if (force || height !== lastHeight) hubspot.resize(height);
  lastHeight = height;
}

function onDialNumber(data) {
  const phone = toE164(data.phoneNumber || data.phone_number);
  state.dial = { phone, calleeInfo: data.calleeInfo || null, objectId: data.objectId, objectType: data.objectType,
    portalId: data.portalId ?? hubspot.context.portalId, ownerId: data.ownerId };
  $(ID.number).value = formatNumber(phone);
  $(ID.dialed).textContent = `HubSpot sent ${formatNumber(phone)}`;
  $(ID.dialed).hidden = !phone;
  if (state.agent && (state.screen === 'keypad' || BACK_SCREENS.includes(state.screen))) {
    show(state, 'keypad');
    $(ID.call).focus();
  }
}

// ---- signing in and out ----------------------------------------------------------------------
async function signIn(event) {
  event.preventDefault();
  const email = $(ID.email).value.trim();
  const password = $(ID.password).value;
  if (!email || !password) return showError('Enter your email and password.');
  $(ID.loginSubmit).disabled = true;
  try {
    const session = await api('POST', '/api/auth/login', { email, password });
    $(ID.password).value = '';
    setToken(session.token);
    state.agent = session.agent;
    state.available = Boolean(session.agent.available);
    hubspot.loggedIn();
    enterKeypad();
  } catch (err) {
    showError(apiMessage(err));
  } finally {
    $(ID.loginSubmit).disabled = false;
  }
}

function enterKeypad() {
  showError('');
  $(ID.agentName).textContent = `Signed in as ${state.agent.name || state.agent.email}`;
  $(ID.available).checked = state.available;
  show(state, 'keypad');
  inbound.start(state); // the socket: rings, call status, presence
  startPhone();
  sendHubSpotContext();
  loadNumbers();
}

// Link this agent to the HubSpot user and owner from onReady, so inbound calls can find them.
async function sendHubSpotContext() {
  const { portalId, userId, ownerId } = hubspot.context;
  if (portalId === undefined && userId === undefined && ownerId === undefined) return;
  try {
    state.agent = (await api('POST', '/api/auth/hubspot-context', { portalId, userId, ownerId })).agent;
  } catch (err) {
    say(apiMessage(err));
  }
}

async function logOut() {
  try {
    await api('POST', '/api/auth/logout');
  } catch (err) {
    showError(apiMessage(err));
  }
  signedOut('You are signed out.');
}

function signedOut(message) {
  inbound.stop(state);
  if (state.phone) state.phone.destroy();
  state.phone = null;
  setToken(null);
  state.agent = null;
  hubspot.loggedOut();
  show(state, 'login');
  say(message);
}

// The phone (Twilio.Device live, the demo phone in demo mode), only in the copy that holds calls;
// then a call that was going on before a reload comes back on screen.
async function startPhone() {
  if (state.phone || state.phoneStarting || !hubspot.ownsCalls()) return;
  state.phoneStarting = true;
  const phoneError = (err) => {
    showError(apiMessage(err));
    hubspot.sendError(apiMessage(err));
  };
  try {
    loadVoiceSdk();
    const phone = DEMO ? await demoPhone() : await livePhone(await state.voiceSdk, { onError: phoneError });
    if (state.agent) attachPhone(phone); else phone.destroy();
  } catch (err) {
    phoneError(err);
  } finally {
    state.phoneStarting = false;
  }
  if (state.agent) outbound.resume(state);
}

// A button pressed in the remote copy of HubSpot's calling window, carried out here (the window copy).
function runForwarded(action, args) {
  const actions = {
    dial: () => {
      if (args.from && state.numbers.some((n) => n.e164 === args.from)) state.from = args.from;
      $(ID.number).value = formatNumber(args.phone);
      startOutgoingCall(args.phone);
    },
    hangup: () => calls.hangUp(state),
    mute: () => calls.toggleMute(state),
    digit: () => calls.sendTone(state, args.digit),
    save: () => {
      $('notes').value = args.notes || '';
      $('outcome').value = args.outcome || '';
      calls.saveCall(state);
    },
    accept: () => inbound.accept(state),
    decline: () => inbound.decline(state),
    available: () => inbound.setAvailable(state, Boolean(args.on)),
  };
  if (actions[action]) actions[action]();
}

// Our WhatsApp senders; the "From" picker appears once there is a choice to make.
export function setNumbers(numbers) {
  state.numbers = numbers;
  $(ID.fromNumber).replaceChildren(...numbers.map((n) => new Option(
    `${n.friendly_name} (${formatNumber(n.e164)})`, n.e164, n.is_default, n.is_default)));
  state.from = numbers.length ? $(ID.fromNumber).value : null;
  $(ID.fromField).hidden = numbers.length < 2;
}

async function loadNumbers() {
  try {
    setNumbers((await api('GET', '/api/numbers')).numbers);
  } catch (err) {
    say(apiMessage(err));
  }
}

// ---- keypad and permission -------------------------------------------------------------------
function typeNumber() {
  reformatInput($(ID.number));
  showError('');
  $(ID.ready).hidden = true;
}

function pasteNumber(event) {
  event.preventDefault();
  $(ID.number).value = formatNumber(toE164(event.clipboardData.getData('text')));
}

function pressKey(event) {
  const key = event.target.closest('[data-key]');
  if (key) $(ID.number).value = formatNumber(toE164($(ID.number).value + key.dataset.key));
}

function deleteDigit() {
  $(ID.number).value = formatNumber(toE164($(ID.number).value).slice(0, -1));
}

async function callNumber() {
  const phone = toE164($(ID.number).value);
  if (!isPlausible(phone)) return showError('Enter the number with its country code, like +44 7400 123456.');
  showError('');
  $(ID.ready).hidden = true;
  setParty(phone);
  try {
    const { permission } = await api('GET', `/api/permissions/status/${encodeURIComponent(phone)}`);
    if (permission.can_call) startOutgoingCall(phone); else showPermission(permission);
  } catch (err) {
    showError(apiMessage(err));
  }
}

// The request, pending or declined screen; a permission that now allows calls makes the keypad dial-ready.
export function showPermission(permission) {
  state.permission = permission;
  setParty(permission.phone);
  const screen = renderPermission(permission, state.requestSentAt);
  if (screen === 'keypad') return readyToCall(permission.phone);
  if (state.screen !== screen) show(state, screen);
  if (screen === 'pending') watchPending();
}

function readyToCall(phone) {
  $(ID.number).value = formatNumber(phone);
  $(ID.ready).textContent = `${formatNumber(phone)} accepted WhatsApp calls. You can call now.`;
  $(ID.ready).hidden = false;
  show(state, 'keypad');
  $(ID.call).focus();
  say('Permission granted.');
}

// permission_updated (socket) or the pending screen's poll: redraw if it is the contact on screen.
function permissionUpdated(permission) {
  if (!permission || !state.permission || permission.phone !== state.permission.phone) return;
  if (PERMISSION_SCREENS.includes(state.screen)) showPermission(permission); else state.permission = permission;
}

function watchPending() {
  if (state.pendingPoll) return;
  const poll = async () => {
    state.pendingPoll = null;
    if (state.screen !== 'pending' || !state.permission) return;
    try {
      permissionUpdated((await api('GET', `/api/permissions/status/${encodeURIComponent(state.permission.phone)}`)).permission);
    } catch (err) {
      say(apiMessage(err));
    }
    if (state.screen === 'pending' && !state.pendingPoll) state.pendingPoll = setTimeout(poll, PENDING_POLL_MS);
  };
  state.pendingPoll = setTimeout(poll, PENDING_POLL_MS);
}

async function requestPermission() {
  try {
    const { permission } = await api('POST', '/api/permissions/request', { phone: state.permission.phone });
    state.requestSentAt = new Date().toISOString();
    showPermission(permission);
  } catch (err) {
    if (err.details.permission) showPermission(err.details.permission);
    showError(apiMessage(err));
  }
}

// ---- history ---------------------------------------------------------------------------------
async function showHistory() {
  show(state, 'history');
  try {
    state.history = (await api('GET', '/api/calls?limit=20')).calls;
    renderHistory(state.history);
  } catch (err) {
    showError(apiMessage(err));
  }
}

// A call whose HubSpot write failed (or never happened): queue it again now.
async function retrySync(event) {
  const button = event.target.closest('[data-retry]');
  if (!button) return;
  button.disabled = true;
  try {
    await api('POST', `/api/calls/${button.dataset.retry}/sync/retry`);
    showHistory();
  } catch (err) {
    button.disabled = false;
    showError(apiMessage(err));
  }
}

function backToKeypad() {
  showError('');
  show(state, state.agent ? 'keypad' : 'login');
}

function tick() {
  if (state.screen === 'calling' && state.answeredAt) $(ID.timer).textContent = clock((Date.now() - state.answeredAt) / 1000);
  if (state.screen === 'pending') renderPermission(state.permission, state.requestSentAt);
}

// ---- start -----------------------------------------------------------------------------------
function bindEvents() {
  const on = (id, type, handler) => $(id).addEventListener(type, handler);
  const key = (handler) => (event) => {
    const button = event.target.closest('[data-key]');
    if (button) handler(button.dataset.key);
  };
  on(ID.loginForm, 'submit', signIn);
  on(ID.number, 'input', typeNumber);
  on(ID.number, 'paste', pasteNumber);
  on(ID.number, 'keydown', (event) => { if (event.key === 'Enter') callNumber(); });
  on(ID.pad, 'click', pressKey);
  on(ID.backspace, 'click', deleteDigit);
  on(ID.call, 'click', callNumber);
  on(ID.available, 'change', (event) => inbound.setAvailable(state, event.target.checked));
  on(ID.fromNumber, 'change', (event) => { state.from = event.target.value; });
  on(ID.showHistory, 'click', showHistory);
  on(ID.logout, 'click', logOut);
  on(ID.requestPermission, 'click', requestPermission);
  on(ID.requestAgain, 'click', requestPermission);
  // In the remote copy of HubSpot's calling window, call buttons act on the window copy's call.
  const callButton = (action, local) => (input) => {
    const args = input instanceof Event ? {} : input; // a click carries nothing to forward
    return mirror.isRemote() ? mirror.forward(action, args) : local(args);
  };
  on(ID.cancelCall, 'click', callButton('hangup', () => calls.hangUp(state)));
  on(ID.hangup, 'click', callButton('hangup', () => calls.hangUp(state)));
  on(ID.accept, 'click', callButton('accept', () => inbound.accept(state)));
  on(ID.decline, 'click', callButton('decline', () => inbound.decline(state)));
  on(ID.mute, 'click', callButton('mute', () => calls.toggleMute(state)));
  on(ID.toggleTones, 'click', calls.toggleTones);
  const tone = callButton('digit', ({ digit }) => calls.sendTone(state, digit));
  on(ID.tones, 'click', key((digit) => tone({ digit })));
  const save = callButton('save', () => calls.saveCall(state));
  on(ID.wrapupForm, 'submit', (event) => {
    event.preventDefault();
    save({ notes: $('notes').value.trim(), outcome: $('outcome').value });
  });
  on(ID.historyList, 'click', retrySync);
  document.querySelectorAll('[data-back]').forEach((button) => button.addEventListener('click', backToKeypad));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && BACK_SCREENS.includes(state.screen)) backToKeypad();
  });
}

function boot() {
  bindEvents();
  outbound.listen(state);
  socket.onMessage('permission_updated', ({ permission }) => permissionUpdated(permission));
  whenUnauthorized(() => signedOut('Your session has ended. Please sign in again.'));
  resumed = resumeSession(); // runs while the SDK loads and waits for HubSpot's SYNC
  const sdk = $('hubspot-sdk');
  const connect = () => {
    if (!hubspot.connect(sdkHandlers, DEMO)) showError('HubSpot’s calling SDK did not load. Reload the widget.');
  };
  if (typeof window.default === 'function') connect(); else sdk.addEventListener('load', connect);
  sdk.addEventListener('error', connect);
  setInterval(tick, 1000);
  setTimeout(() => { if (state.screen === 'loading') say('Waiting for HubSpot: open this widget from HubSpot’s calling menu.'); }, 8000);
}

boot();
