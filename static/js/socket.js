// Our live line to the server (GET /ws?ticket=…, CONTRACT §6 and §8): one JSON object per message.
// The token never goes into the socket's URL (access logs keep URLs): every (re)connect first trades
// it for a single-use ticket that lives a few seconds (POST /api/realtime/ticket).
// It reconnects by itself with exponential backoff and jitter, and fires `open` after every
// (re)connect, so the widget can ask what it missed (rings are not replayed by the server).
// Events: every server message `type`, plus `open`, `close` and `unauthorized` (close code 4401).
import { api } from './api.js';
import { state } from './state.js';

const UNAUTHORIZED = 4401;
const BACKOFF = { firstMs: 500, maxMs: 30000, stableMs: 10000 }; // stable: open this long resets the backoff
// This module's part of the state: ws, token, attempt (retries since the last stable open), retryTimer,
// openedAt, opening (a ticket is being fetched: the number of that attempt, else 0), and handlers
// (event -> Set of functions).
const line = state.socket;

export function onMessage(type, fn) {
  if (!line.handlers.has(type)) line.handlers.set(type, new Set());
  line.handlers.get(type).add(fn);
  return () => line.handlers.get(type).delete(fn);
}

function emit(type, data) {
  (line.handlers.get(type) || []).forEach((fn) => {
    try {
      fn(data);
    } catch (err) {
      console.error(`socket: the ${type} handler failed`, err); // one bad handler must not stop the others
    }
  });
}

// A message learnt another way (outbound.js's call status poll), handed to the same subscribers as if the
// socket had brought it: one handler per message type, whatever the source.
export const deliver = (message) => emit(message.type, message);

export const isOpen = () => line.ws !== null && line.ws.readyState === WebSocket.OPEN;

// Opens the socket for this token; the same token again is a no-op, a new one replaces the old socket.
export function connect(newToken) {
  if (!newToken) return;
  if (newToken === line.token && (line.ws || line.opening)) return;
  drop();
  line.token = newToken;
  line.attempt = 0;
  open();
}

function socketUrl(ticket) {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
}

let attempts = 0; // numbers each open(), so a ticket that arrives after drop() or a newer open() is discarded

// A ticket, then the socket. A refused token signs the widget out (api.js); anything else retries later.
async function open() {
  clearTimeout(line.retryTimer);
  line.retryTimer = null;
  attempts += 1;
  const mine = attempts;
  line.opening = mine;
  let ticket;
  try {
    ticket = (await api('POST', '/api/realtime/ticket')).ticket;
  } catch (err) {
    if (line.opening !== mine) return;
    line.opening = 0;
    if (err.status === 401) emit('unauthorized', { code: UNAUTHORIZED });
    else retryLater();
    return;
  }
  if (line.opening !== mine || !line.token) return; // dropped, or replaced by a newer connect()
  line.opening = 0;
  const socket = new WebSocket(socketUrl(ticket));
  line.ws = socket;
  socket.addEventListener('open', () => {
    if (line.ws !== socket) return;
    line.openedAt = Date.now();
    emit('open');
  });
  socket.addEventListener('message', (event) => {
    if (line.ws !== socket) return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch (err) {
      return;
    }
    if (message && typeof message.type === 'string') emit(message.type, message);
  });
  socket.addEventListener('close', (event) => {
    if (line.ws !== socket) return; // replaced or closed on purpose
    line.ws = null;
    const wasOpen = line.openedAt > 0;
    if (wasOpen && Date.now() - line.openedAt >= BACKOFF.stableMs) line.attempt = 0;
    line.openedAt = 0;
    if (wasOpen) emit('close', { code: event.code });
    if (event.code === UNAUTHORIZED) {
      emit('unauthorized', { code: event.code }); // the widget decides: sign out, or connect with a new token
      return;
    }
    retryLater();
  });
}

// "Equal jitter": a random wait between half the exponential cap and the cap (0.25–0.5 s, then 0.5–1 s, …,
// at most 15–30 s), so a server restart is not hit by every widget at once.
function retryLater() {
  const cap = Math.min(BACKOFF.maxMs, BACKOFF.firstMs * 2 ** line.attempt);
  line.attempt += 1;
  const delay = cap / 2 + Math.random() * (cap / 2);
  line.retryTimer = setTimeout(() => { if (line.token && !line.ws && !line.opening) open(); }, delay);
}

// The network came back: do not wait for the backoff timer.
window.addEventListener('online', () => {
  if (line.token && !line.ws && !line.opening) {
    line.attempt = 0;
    open();
  }
});

export function send(message) {
  if (!isOpen()) return false;
  line.ws.send(JSON.stringify(message));
  return true;
}

function drop() {
  clearTimeout(line.retryTimer);
  line.retryTimer = null;
  line.opening = 0;
  const socket = line.ws;
  line.ws = null;
  line.openedAt = 0;
  if (socket) socket.close(1000, 'bye');
}

// Signed out: close for good (no reconnect) until connect() is called again.
export function close() {
  drop();
  line.token = null;
  line.attempt = 0;
}
