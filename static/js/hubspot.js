// HubSpot's Calling Extensions SDK (vendored UMD bundle: window.default is CallingExtensions).
// One small function per SDK call. Nothing is sent before onReady, nor to a host we do not trust.
import { state } from './state.js';

const HUBSPOT_HOST = /^https:\/\/app(-[a-z0-9]+)?\.hubspot\.com$/;
const CONTEXT_KEYS = ['portalId', 'userId', 'ownerId', 'engagementId', 'iframeLocation', 'usesCallingWindow', 'hostUrl'];
const SIZE = { width: 400, height: 600 };
const context = state.hubspot; // what HubSpot's SYNC said, plus the engagement of the current call
const sdk = state.sdk; // cti (HubSpot's CallingExtensions) and ready (onReady came from a trusted host)

const isTrustedHost = (hostUrl, demo) => demo || HUBSPOT_HOST.test(hostUrl || '');

// handlers: onReady, onUntrustedHost(hostUrl), onDialNumber, onEngagementCreated(id), onCallerIdMatch,
// onVisibilityChanged, onEndCall, onFailure(message). Returns false when the SDK bundle is missing.
export function connect(handlers, demo) {
  if (typeof window.default !== 'function') return false;
  const live = (handler) => (data, message) => { if (sdk.ready) handler(data || {}, message || {}); };
  const engagementCreated = ({ engagementId }) => {
    if (engagementId === undefined || engagementId === null) return;
    context.engagementId = engagementId;
    handlers.onEngagementCreated(engagementId);
  };
  sdk.cti = new window.default({
    debugMode: false,
    eventHandlers: {
      onReady: (data = {}) => {
        CONTEXT_KEYS.forEach((key) => { if (data[key] !== undefined) context[key] = data[key]; });
        if (!isTrustedHost(data.hostUrl, demo)) return handlers.onUntrustedHost(data.hostUrl);
        sdk.ready = true;
        return handlers.onReady(context);
      },
      onDialNumber: live(handlers.onDialNumber),
      onCreateEngagementSucceeded: live(engagementCreated),
      onEngagementCreated: live(engagementCreated), // ENGAGEMENT_CREATED: the deprecated name some portals still send
      onCallerIdMatchSucceeded: live(handlers.onCallerIdMatch),
      onVisibilityChanged: live(handlers.onVisibilityChanged),
      onEndCall: live(handlers.onEndCall),
      // Every *_FAILED message lands here: the SDK's key is "FAILED", not onFailed. No caller-ID match
      // only means the caller is not in HubSpot's CRM: no error for that.
      FAILED: live((data, message) => {
        if (message.type !== 'CALLER_ID_MATCH_FAILED') handlers.onFailure(failureText(data, message.type));
      }),
      defaultEventHandler: () => {},
    },
  });
  return true;
}

function failureText(data, type) {
  const detail = (data.error && data.error.message) || data.message;
  const what = String(type || '').replace(/_FAILED$/, '').replace(/_/g, ' ').toLowerCase();
  return detail ? `HubSpot: ${detail}` : `HubSpot could not ${what || 'do that'}.`;
}

function send(method, payload) {
  if (sdk.ready) sdk.cti[method](payload);
  return sdk.ready;
}

// With HubSpot's calling window only the `window` copy holds calls; the `remote` copy mirrors it.
export const ownsCalls = () => !context.usesCallingWindow || context.iframeLocation === 'window';
export const forgetEngagement = () => { delete context.engagementId; };

export const initialized = (isLoggedIn, isAvailable) => send('initialized', { isLoggedIn, isAvailable, sizeInfo: SIZE,
  ...(context.engagementId ? { engagementId: context.engagementId } : {}) });
export const loggedIn = () => send('userLoggedIn');
export const loggedOut = () => send('userLoggedOut');
export const available = () => send('userAvailable');
export const unavailable = () => send('userUnavailable');
export const resize = (height) => send('resizeWidget', { width: SIZE.width, height });
export const sendError = (message) => send('sendError', { message });
export const outgoingCall = (externalCallId, toNumber, fromNumber) => send('outgoingCall',
  { externalCallId, toNumber, fromNumber, callStartTime: Date.now(), createEngagement: true });
// Every available agent's widget rings, so HubSpot must not create an engagement per ring: our server
// logs the inbound call once, whoever answers or nobody (hubspot/engagements.py).
export const incomingCall = (externalCallId, fromNumber, toNumber) => send('incomingCall',
  { externalCallId, fromNumber, toNumber, callStartTime: Date.now(), createEngagement: false });
export const callAnswered = (externalCallId) => send('callAnswered', { externalCallId });
export const callEnded = (externalCallId, callEndStatus) => send('callEnded',
  { externalCallId, engagementId: context.engagementId, callEndStatus });
// Opens the caller's record in HubSpot: objectCoordinates {portalId, objectId, objectTypeId: '0-1'}.
export const navigateToRecord = (objectCoordinates) => send('navigateToRecord', { objectCoordinates });
// hideWidget:false keeps the widget open once HubSpot has logged the call.
export const callCompleted = (externalCallId, engagementProperties) => send('callCompleted',
  { externalCallId, engagementId: context.engagementId, hideWidget: false, engagementProperties });
