// Talks to our /api: the agent token lives only in memory (storage is denied in HubSpot's
// cross-site iframe); the partitioned session cookie rides along so /api/auth/resume works.
import { state } from './state.js';

const auth = state.api; // this module's part of the state: token, onUnauthorized, onReachable

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || 'error';
    this.retryAt = error.retry_at || null;
    this.details = error;
  }
}

export function setToken(value) {
  auth.token = value || null;
}

// The socket trades this token for a single-use ticket before each connect (socket.js).
export const currentToken = () => auth.token;

// Called when a request that carried a token is refused: the session ended elsewhere.
export function whenUnauthorized(callback) {
  auth.onUnauthorized = callback;
}

// keepalive: the request outlives the page (a draft sent while the widget unloads).
// Called after every answer from the server: a "cannot reach the server" shown earlier is over.
export function whenReachable(callback) {
  auth.onReachable = callback;
}

export async function api(method, path, body, { timeout = 15000, keepalive = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const sentToken = auth.token;
  if (sentToken) headers.Authorization = `Bearer ${sentToken}`;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  let response;
  try {
    response = await fetch(path, {
      method, headers, credentials: 'include', signal: abort.signal, keepalive,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, { code: 'network', message: 'Cannot reach the server. Check your connection.' });
  } finally {
    clearTimeout(timer);
  }
  if (auth.onReachable) auth.onReachable();
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const error = (data && data.error) || { code: `http_${response.status}` };
    if (response.status === 401 && sentToken && sentToken === auth.token && auth.onUnauthorized) auth.onUnauthorized();
    throw new ApiError(response.status, error);
  }
  return data;
}
