"""HubSpot's REST API over one requests session: auth, timeouts, rate limits, retries (reference §0, §6)."""
import logging
import random
import time

import requests

log = logging.getLogger(__name__)
TIMEOUT = (5, 20)  # connect, read (seconds)
MAX_RETRIES = 4
BACKOFF_BASE, BACKOFF_CAP = 0.5, 8.0
DAILY_LIMIT_RETRY_AFTER = 3600  # the daily quota will not come back soon: let the outbox try again later


class HubSpotError(Exception):
    """A failed HubSpot call; ``transient`` says whether trying again later can help."""

    def __init__(self, message, status=None, correlation_id=None, category=None, code=None,
                 transient=False, retry_after=None, body=None):
        super().__init__(message)
        self.message, self.status, self.correlation_id = message, status, correlation_id
        self.category, self.code, self.transient = category, code, transient
        self.retry_after, self.body = retry_after, body or {}

    def __str__(self):
        return self.message + (f" (correlationId {self.correlation_id})" if self.correlation_id else "")

    @classmethod
    def from_response(cls, response, transient):
        """Keep HubSpot's own words: message, category and correlationId of its error body."""
        body = _json(response) if response.content else {}
        body = body if isinstance(body, dict) else {}
        message = body.get("message") or body.get("error_description") or f"HubSpot answered {response.status_code}"
        return cls(f"HubSpot {response.status_code}: {message}", status=response.status_code,
                   correlation_id=body.get("correlationId"), category=body.get("category") or body.get("errorType"),
                   code=body.get("status") if body.get("status") != "error" else body.get("category"),
                   transient=transient, body=body)


def _json(response):
    try:
        return response.json()
    except ValueError:
        return {}


def rate_limit_wait(response) -> float:
    """Seconds to wait after a 429: Retry-After if sent, else the rate-limit window HubSpot names."""
    retry_after = response.headers.get("Retry-After", "")
    if retry_after.strip().isdigit():
        return float(retry_after)
    interval = response.headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "")
    if interval.strip().isdigit():
        return int(interval) / 1000
    policy = (_json(response) or {}).get("policyName", "") if response.content else ""
    return 1.0 if "SECONDLY" in str(policy) and "TEN" not in str(policy) else 10.0


class HubSpotClient:
    """One HubSpot account's API; ``request`` answers the JSON body or raises ``HubSpotError``."""

    def __init__(self, base, session, token=None, sleep=time.sleep, max_retries=MAX_RETRIES, jitter=random.random,
                 deadline=None):
        self.base, self.session, self.token = base.rstrip("/"), session, token
        self.sleep, self.max_retries, self.jitter = sleep, max_retries, jitter
        self.deadline = deadline  # time.monotonic() by which a caller that cannot wait needs the answer

    def timeout(self):
        """The (connect, read) timeouts of one attempt: ours, or what is left before the deadline."""
        if self.deadline is None:
            return TIMEOUT
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise HubSpotError("HubSpot did not answer in time", code="timeout", transient=True)
        return (min(TIMEOUT[0], left), min(TIMEOUT[1], left))

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter, so many workers do not come back in step."""
        return min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt) * (0.5 + self.jitter() / 2)

    def request(self, method, path, json=None, params=None, data=None, auth=True, idempotent=None) -> dict:
        """Send one call; 429 waits as HubSpot says, 5xx/network retry only when a repeat is harmless."""
        method = method.upper()
        # A POST that creates something may have landed before a 5xx or a timeout: never repeat it here.
        idempotent = method != "POST" if idempotent is None else idempotent
        max_retries = self.max_retries if self.deadline is None else 0  # a deadline allows one attempt
        attempt = 0
        while True:
            headers = {"Accept": "application/json"}
            if auth:
                headers["Authorization"] = f"Bearer {self.token()}"
            try:
                response = self.session.request(method, self.base + path, json=json, params=params, data=data,
                                                headers=headers, timeout=self.timeout())
            except requests.RequestException as exc:
                error = HubSpotError(f"HubSpot could not be reached ({exc.__class__.__name__})",
                                     code="network_error", transient=True)
                wait = self.backoff(attempt)
                if not idempotent or attempt >= max_retries:
                    raise error from exc
            else:
                if response.status_code < 400:
                    return _json(response) if response.content else {}
                if response.status_code == 429:
                    # HubSpot refused before doing anything, so even a create can be sent again.
                    error = HubSpotError.from_response(response, transient=True)
                    wait = error.retry_after = rate_limit_wait(response)
                    if error.body.get("policyName") == "DAILY":
                        error.retry_after = max(wait, DAILY_LIMIT_RETRY_AFTER)
                        raise error
                    if attempt >= max_retries:
                        raise error
                elif response.status_code >= 500 or response.status_code == 423:
                    error = HubSpotError.from_response(response, transient=True)
                    wait = 2.0 if response.status_code == 423 else self.backoff(attempt)
                    if not idempotent or attempt >= max_retries:
                        raise error
                else:
                    raise HubSpotError.from_response(response, transient=False)
            log.info("HubSpot %s %s: %s; retrying in %.1f s", method, path, error, wait)
            self.sleep(wait)
            attempt += 1


def session(app) -> requests.Session:
    """One pooled session per app: the transport seam (demo mode mounts HubSpot's simulated cloud on it)."""
    if "hubspot_session" not in app.extensions:
        app.extensions["hubspot_session"] = requests.Session()
    return app.extensions["hubspot_session"]


def unauthenticated_client(app, deadline=None) -> HubSpotClient:
    """For the OAuth endpoints, which take the client id and secret in the form instead of a Bearer token."""
    return HubSpotClient(app.config["HUBSPOT_API_BASE"], session(app), token=None,
                         sleep=app.extensions.get("hubspot_sleep") or time.sleep, deadline=deadline)
