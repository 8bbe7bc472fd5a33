// The widget's one state object. Every runtime value lives here, so no module keeps its own `let`s:
// the modules that take `state` as a parameter read and change it, and the plumbing modules
// (api.js, hubspot.js, socket.js, mirror.js, screens.js) own one clearly named sub-object each.
// This module imports nothing, so any module may import it without a cycle.
export const state = {
  screen: 'loading',
  agent: null,
  hubspot: {}, // HubSpot's SYNC (hubspot.js): portalId, userId, ownerId, iframeLocation, usesCallingWindow,
  // hostUrl, and engagementId, the engagement of the current call
  dial: null, // HubSpot's DIAL_NUMBER: phone, calleeInfo, objectId, objectType, portalId, ownerId
  phone: null, // Twilio Device (or the demo phone), attached by session.js
  phoneStarting: false,
  voiceSdk: null, // Promise of window.Twilio, loaded after INITIALIZED
  numbers: [], from: null, available: false, hidden: false,
  permission: null, requestSentAt: null, pendingPoll: null,
  // The call. `phase` is changed only by calls.js's setPhase: null (no call), then
  // 'ringing' | 'accepting' | 'dialing' | 'connected' | 'ended' (see setPhase for the steps).
  phase: null,
  call: null, answeredAt: null, muted: false, history: [],
  standing: { timer: null, pending: [], accepted: null }, // standing.js: the keypad's pending look-up, the
  // requests still waiting for an answer, and the contact whose acceptance the notice shows
  missed: [], // missed.js: the inbound calls nobody answered that this agent may call back
  draft: { timer: null, sent: '' }, // wrapup.js: the pending debounce of the notes, and the last draft the server has
  invites: new Set(), // live: ids of our calls that Twilio is ringing in this browser (inbound.js)
  watchedPhones: new WeakSet(), // phones whose invites inbound.js listens to
  resumed: Promise.resolve(false), // the session, asked for while HubSpot's SDK loads (widget.js)
  ticks: 0, // widget.js: seconds counted by its one-second tick (the history's refresh)
  sentHeight: 0, // the widget's height as last told to HubSpot (widget.js)
  api: { token: null, onUnauthorized: null, onReachable: null }, // api.js: the agent's token, what a refused
  // token calls, and what any answer from the server calls
  sdk: { cti: null, ready: false }, // hubspot.js: HubSpot's CallingExtensions, and whether onReady came
  socket: { ws: null, token: null, attempt: 0, retryTimer: null, openedAt: 0, opening: 0, handlers: new Map() }, // socket.js
  mirror: { channel: null }, // mirror.js: the BroadcastChannel of HubSpot's calling window
  showListeners: [], // screens.js: functions told about every screen change (the calling window's mirror)
};
