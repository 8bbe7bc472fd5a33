// The agent's phone. Live: Twilio's Voice SDK (Twilio.Device) with a token from /api/voice/token.
// Demo: a phone with the same interface that asks the simulated Twilio (/dev/api/voice/connect),
// which calls our real /twilio/voice and status webhooks. Either way the call's progress comes from
// our server (call_status on the socket, polled as a fallback: see outbound.js), never from the phone.
// Interface: prepare(), connect(params), disconnect(), mute(on), sendDigits(d), accept(call),
// reject(call), onIncoming(fn), destroy(). `events.onError(err)` hears what goes wrong on its own.
import { api } from './api.js';

export const DEMO = document.body.dataset.mode === 'demo';

const MIC_DENIED = 'Your browser blocked the microphone, so WhatsApp calls cannot start. Allow the microphone for '
  + 'this site (the icon in the address bar), then try again.';
const MIC_MISSING = 'No microphone was found. Connect one, then try again.';
const MIC_CODES = [31208, 31401, 31402]; // Twilio: user denied / permission denied / acquisition failed

export class PhoneError extends Error {}

// A Twilio or browser error as a sentence the agent can act on.
export function explain(err) {
  if (err && (err.name === 'NotAllowedError' || err.name === 'SecurityError' || MIC_CODES.includes(err.code))) {
    return new PhoneError(err.code === 31402 ? MIC_MISSING : MIC_DENIED);
  }
  if (err && err.name === 'NotFoundError') return new PhoneError(MIC_MISSING);
  if (err instanceof PhoneError) return err;
  const detail = (err && (err.explanation || err.description || err.message)) || 'unknown error';
  return new PhoneError(`The phone failed: ${detail}${err && err.code ? ` (Twilio ${err.code})` : ''}.`);
}

// Ask for the microphone before anything is dialled, so a refusal is explained and no call is placed.
async function checkMicrophone() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new PhoneError('This browser cannot use a microphone here (it needs HTTPS).');
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    stream.getTracks().forEach((track) => track.stop());
  } catch (err) {
    throw explain(err);
  }
}

// Live: one Twilio.Device per signed-in widget, registered so that inbound calls can ring it.
export async function livePhone(Twilio, events = {}) {
  const { token } = await api('GET', '/api/voice/token');
  const device = new Twilio.Device(token, { codecPreferences: ['opus', 'pcmu'], closeProtection: true });
  const incoming = new Map(); // our call id -> Twilio Call that is ringing this browser
  const incomingHandlers = [];
  let active = null;
  device.on('tokenWillExpire', async () => {
    try {
      device.updateToken((await api('GET', '/api/voice/token')).token);
    } catch (err) {
      if (events.onError) events.onError(explain(err));
    }
  });
  device.on('error', (err) => { if (events.onError) events.onError(explain(err)); });
  device.on('incoming', (twilioCall) => {
    const callId = twilioCall.customParameters.get('CallId');
    incoming.set(callId, twilioCall);
    const forget = () => incoming.delete(callId);
    ['cancel', 'disconnect', 'reject'].forEach((name) => twilioCall.on(name, forget));
    incomingHandlers.forEach((fn) => fn({ callId, twilioCall }));
  });
  device.register().catch((err) => { if (events.onError) events.onError(explain(err)); });

  const watch = (twilioCall) => {
    active = twilioCall;
    twilioCall.on('disconnect', () => { if (active === twilioCall) active = null; });
    twilioCall.on('error', (err) => { if (events.onError) events.onError(explain(err)); });
    return twilioCall;
  };
  return {
    kind: 'twilio',
    prepare: checkMicrophone,
    async connect(params) {
      try {
        watch(await device.connect({ params }));
      } catch (err) {
        throw explain(err);
      }
    },
    disconnect() { if (active) active.disconnect(); },
    mute(on) { if (active) active.mute(on); },
    sendDigits(digits) { if (active) active.sendDigits(digits); },
    onIncoming(fn) { incomingHandlers.push(fn); },
    async accept(call) {
      const twilioCall = incoming.get(String(call.id));
      if (!twilioCall) throw new PhoneError('The call stopped ringing in this browser.');
      await checkMicrophone();
      incoming.delete(String(call.id));
      watch(twilioCall).accept();
    },
    reject(call) {
      const twilioCall = incoming.get(String(call.id));
      if (twilioCall) twilioCall.reject();
    },
    destroy() { device.destroy(); },
  };
}

// Demo: no media. The simulated Twilio plays the contact; the server tells us what happens.
export async function demoPhone() {
  const { identity } = await api('GET', '/api/voice/token');
  return {
    kind: 'demo',
    identity,
    prepare: async () => {},
    // {sid, status, spoken?}: spoken is the reason Twilio read out instead of dialling
    connect: (params) => api('POST', '/dev/api/voice/connect', { params, identity }),
    disconnect() {}, // the agent's POST /api/calls/end hangs up the simulated legs
    mute() {},
    sendDigits() {},
    onIncoming() {}, // demo rings arrive over the socket only
    accept: async () => {},
    reject() {},
    destroy() {},
  };
}
