// HubSpot's side of the Calling Extensions SDK, played by the SDK's own IFrameManager (demo mode).
// The widget is framed from the other loopback origin (127.0.0.1 <-> localhost), as HubSpot frames
// it cross-site. Every message both ways is logged on the page and in window.simulatorLog for tests.

const { IFrameManager } = window;
const CONTEXT = { portalId: 123, userId: 456, ownerId: 789 };
const CONTACT = { calleeId: 1001, calleeObjectTypeId: '0-1' };
const DEMO_CONTACT = { phone: '+447400123456', email: 'dana.demo@example.com' }; // as in hubspot/demo.py
const ROLE = document.body.dataset.role; // "page" or "window" (the calling-window popup)
const params = new URLSearchParams(window.location.search);
const MODE = ROLE === 'window' || params.get('mode') === 'window' ? 'window' : 'widget';
const $ = (id) => document.getElementById(id);

window.simulatorLog = [];
let nextEngagementId = 5001;
let callingWindow = null; // the popup, in calling-window mode

// The widget lives on the other loopback name, so it is cross-site as inside HubSpot.
function widgetUrl() {
  if (params.get('src')) return params.get('src'); // bench/widget_load.py frames a bare page instead
  const names = { '127.0.0.1': 'localhost', localhost: '127.0.0.1' };
  const host = names[window.location.hostname] || window.location.hostname;
  return `${window.location.protocol}//${host}${window.location.port ? `:${window.location.port}` : ''}/widget`;
}

// Keep an entry in window.simulatorLog and show it in the log list.
window.simulatorRecord = (entry) => {
  window.simulatorLog.push(entry);
  const item = document.createElement('li');
  item.className = entry.dir;
  const data = entry.data === undefined ? '' : ` ${JSON.stringify(entry.data)}`;
  item.textContent = `${entry.dir === 'out' ? '→' : '←'} [${entry.copy}] ${entry.type}${data}`;
  $('log').append(item);
  item.scrollIntoView({ block: 'nearest' });
};

function record(dir, message, copy) {
  const entry = { dir, type: message.type, data: message.data, copy, t: performance.now() };
  window.simulatorRecord(entry);
  // The calling-window popup also reports to the page that opened it (same origin).
  if (ROLE === 'window' && window.opener && window.opener.simulatorRecord) window.opener.simulatorRecord(entry);
}

// IFrameManager as HubSpot: its own sendSync sends only {type, hostUrl}; HubSpot's real SYNC
// carries the portal, user, owner and where the widget is shown.
class FakeHubSpot extends IFrameManager {
  sendSync() {
    if (Date.now() - this.firstSyncSent > 30000) {
      this.onMessageHandler({ type: 'SYNC_ACK_FAILED' });
      return;
    }
    const sync = { type: 'SYNC', hostUrl: IFrameManager.extractHostFromUrl(window.location.href), ...CONTEXT,
      iframeLocation: this.iframeLocation, usesCallingWindow: this.usesCallingWindow };
    if (!this.syncLogged) record('out', { type: 'SYNC', data: sync }, this.iframeLocation);
    this.syncLogged = true;
    this.sendMessage(sync, (ack) => {
      record('in', { type: 'SYNC_ACK', data: ack }, this.iframeLocation);
      this.destinationHost = ack.iFrameUrl || this.destinationHost;
      this.onReady();
    });
    window.setTimeout(() => { if (this.iFrame && !this.isReady) this.sendSync(); }, 100);
  }

  onReady(data) {
    this.syncLogged = false; // log the SYNC of the next load (a reloaded widget) once again
    super.onReady(data);
  }

  send(type, data) {
    const message = data === undefined ? { type } : { type, data };
    record('out', message, this.iframeLocation);
    this.sendMessage(message);
  }
}

function autoEngagement() {
  const page = ROLE === 'window' && window.opener ? window.opener.document : document;
  const box = page.getElementById('auto-engagement');
  return !box || box.checked;
}

// HubSpot looks the caller up in its CRM: the one demo contact matches, anyone else does not.
function matchCallerId(host, { fromNumber }) {
  if (fromNumber !== DEMO_CONTACT.phone) return host.send('CALLER_ID_MATCH_FAILED', { fromNumber });
  return host.send('CALLER_ID_MATCH_SUCCEEDED', { callerIdMatches: [{ callerIdType: 'CONTACT',
    objectCoordinates: { portalId: CONTEXT.portalId, objectId: CONTACT.calleeId, objectTypeId: '0-1' },
    firstName: 'Dana', lastName: 'Demo', email: DEMO_CONTACT.email }] });
}

function createHost(iframeLocation, usesCallingWindow) {
  let host = null;
  const onMessage = (message) => {
    if (message.type === 'READY') return; // local: the handshake finished
    record('in', message, iframeLocation);
    if (message.type === 'RESIZE_WIDGET') host.updateIFrameSize(message.data);
    // HubSpot creates an engagement only when asked (createEngagement: true)
    if (['OUTGOING_CALL_STARTED', 'INCOMING_CALL'].includes(message.type) && autoEngagement()
      && (message.data || {}).createEngagement) {
      host.send('CREATE_ENGAGEMENT_SUCCEEDED', { engagementId: nextEngagementId++ });
    }
    if (message.type === 'INCOMING_CALL') matchCallerId(host, message.data || {});
  };
  host = new FakeHubSpot({
    debugMode: false, onMessageHandler: onMessage,
    iFrameOptions: { src: widgetUrl(), width: '400px', height: '600px', hostElementSelector: '#frame' },
  });
  Object.assign(host, { iframeLocation, usesCallingWindow, syncLogged: false });
  host.iFrame.title = `Calling widget (${iframeLocation})`;
  return host;
}

// Where the page's buttons send: the only copy, or the chosen one in calling-window mode.
function target() {
  if (MODE === 'window' && $('target').value === 'window' && callingWindow && !callingWindow.closed) {
    return callingWindow.simulatorHost;
  }
  return window.simulatorHost;
}

function openCallingWindow() {
  callingWindow = window.open(`/dev/hubspot/window${window.location.search}`, 'hubspot-calling-window',
    'popup,width=440,height=720');
}

function sendDial() {
  target().send('DIAL_NUMBER', { phoneNumber: $('dial-number').value.trim(), ...CONTEXT, objectId: CONTACT.calleeId,
    objectType: 'CONTACT', calleeInfo: CONTACT, toPhoneNumberSrc: 'phone' });
}

const sendEngagement = () => target().send('CREATE_ENGAGEMENT_SUCCEEDED', { engagementId: nextEngagementId++ });
const sendEngagementFailed = () => target().send('CREATE_ENGAGEMENT_FAILED',
  { error: { message: 'Simulated: the engagement could not be created.' } });
const sendVisibility = () => target().send('VISIBILITY_CHANGED',
  { isMinimized: $('vis-minimized').checked, isHidden: $('vis-hidden').checked });
const sendEndCall = () => target().send('END_CALL');
const sendCallerId = () => target().send('CALLER_ID_MATCH_SUCCEEDED', { callerIdMatches: [{
  callerIdType: 'CONTACT', objectCoordinates: { portalId: CONTEXT.portalId, objectId: CONTACT.calleeId, objectTypeId: '0-1' },
  firstName: 'Dana', lastName: 'Demo', email: 'dana@example.com' }] });

// The WhatsApp user calling us (demo mode): /dev/api plays Twilio and posts our real, signed webhooks.
let inboundCallId = null;

async function inboundDemo(label, path, body) {
  window.simulatorRecord({ dir: 'demo', type: label, data: body, copy: 'contact', t: performance.now() });
  const response = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    window.simulatorRecord({ dir: 'demo', type: `${label} failed`, data: answer.error, copy: 'contact', t: performance.now() });
  }
  return answer;
}

async function contactCallsIn() {
  const { call } = await inboundDemo('contact calls in', '/dev/api/contact/call-in', {});
  if (call) inboundCallId = call.id;
}

const contactHangsUpInbound = () => inboundCallId !== null
  && inboundDemo('contact hangs up', '/dev/api/contact/hang-up-inbound', { call_id: inboundCallId });

// Issue 15: our number closed while the call comes in (the caller hears the after-hours message and the
// voicemail greeting); a voicemail on the call in progress (a ringing one rings out first), else on a new call.
async function contactCallsInAfterHours() {
  const { call } = await inboundDemo('contact calls in after hours', '/dev/api/contact/call-in-after-hours', {});
  if (call) inboundCallId = call.id;
}

async function contactLeavesVoicemail() {
  const body = inboundCallId === null ? {} : { call_id: inboundCallId };
  const { call } = await inboundDemo('contact leaves a voicemail', '/dev/api/contact/leave-voicemail', body);
  if (call) inboundCallId = call.id;
}

function addInboundButtons() {
  [['contact-call-in', 'Contact calls in', contactCallsIn],
    ['contact-hang-up-inbound', 'Contact hangs up (incoming call)', contactHangsUpInbound],
    ['contact-call-in-after-hours', 'Contact calls in after hours', contactCallsInAfterHours],
    ['contact-leave-voicemail', 'Contact leaves a voicemail', contactLeavesVoicemail]].forEach(([id, text, handler]) => {
    const button = document.createElement('button');
    Object.assign(button, { id, type: 'button', textContent: text });
    button.addEventListener('click', handler);
    $('contact-actions').append(button);
  });
}

// The contact answers our permission request (the number in the DIAL_NUMBER field), or does something
// with our outbound call. Same origin as this page; the server plays Twilio and posts signed webhooks.
const CONTACT_BUTTONS = [
  ['contact-accepts', 'Contact accepts calls', () => permissionReply('accept')],
  ['contact-declines', 'Contact declines calls', () => permissionReply('decline')],
  ['contact-declines-call', 'Contact declines the call', () => callAction('decline')],
  ['contact-no-answer', 'Contact doesn\u2019t answer', () => callAction('no_answer')],
  ['contact-hangs-up', 'Contact hangs up', () => callAction('hang_up')],
];
const permissionReply = (answer) => inboundDemo(`contact ${answer.replace('_', ' ')}`, '/dev/api/contact/permission-reply',
  { phone: $('dial-number').value.trim(), answer });
const callAction = (action) => inboundDemo(`contact ${action.replace('_', ' ')}`, '/dev/api/contact/call-action', { action });

function addContactButtons() {
  CONTACT_BUTTONS.forEach(([id, text, handler]) => {
    const button = document.createElement('button');
    Object.assign(button, { id, type: 'button', textContent: text });
    button.addEventListener('click', handler);
    $('contact-actions').append(button);
  });
}

function reloadWidget() {
  const frame = target().iFrame;
  frame.src = frame.src; // a new widget instance: HubSpot's host answers its load with SYNC again
}

function start() {
  if (ROLE === 'window') {
    window.simulatorHost = createHost('window', true);
    return;
  }
  window.simulatorHost = MODE === 'window' ? createHost('remote', true) : createHost('widget', false);
  $(`mode-${MODE}`).setAttribute('aria-current', 'page');
  $('mode-note').textContent = MODE === 'window'
    ? 'The page holds the remote copy; the popup holds the calling window copy.'
    : 'The widget is shown as HubSpot\u2019s call widget (iframeLocation: widget).';
  $('target-field').hidden = MODE !== 'window';
  const on = (id, handler) => $(id).addEventListener('click', handler);
  on('open-window', openCallingWindow);
  on('send-dial', sendDial);
  on('send-engagement', sendEngagement);
  on('send-engagement-failed', sendEngagementFailed);
  on('send-visibility', sendVisibility);
  on('send-end-call', sendEndCall);
  on('send-caller-id', sendCallerId);
  on('reload-widget', reloadWidget);
  on('clear-log', () => { $('log').replaceChildren(); });
  addInboundButtons();
  addContactButtons();
  if (MODE === 'window') openCallingWindow();
}

start();
