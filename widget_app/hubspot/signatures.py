"""Requests HubSpot signs for us: X-HubSpot-Signature-v3, and the v1/v2 forms it still sends.

v3 = base64(HMAC-SHA256(client secret, method + URI + raw body + timestamp)), where the URI is
the one HubSpot called with only the escapes in ``HUBSPOT_DECODED`` decoded. Timestamps older than
five minutes are refused, and so are timestamps from the future beyond ``FUTURE_SKEW_MS``: a
genuine request cannot come from the future, the small allowance only absorbs clock drift between
HubSpot's servers and ours. v2 = hex(SHA-256(secret + method + URI + body)); v1 = hex(SHA-256(
secret + body)). Neither carries a timestamp, so a route chooses which forms it accepts.
"""
import base64
import hashlib
import hmac
import logging
import re
from urllib.parse import quote

from flask import current_app, request

from widget_app.core.clock import utcnow

log = logging.getLogger(__name__)

MAX_AGE_MS = 5 * 60 * 1000
FUTURE_SKEW_MS = 5 * 1000
MAX_TIMESTAMP_DIGITS = 16  # milliseconds since 1970 have 13 digits until the year 2286
# The escapes HubSpot decodes before signing (reference §3); every other one (e.g. %20) stays.
HUBSPOT_DECODED = {"%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$", "%27": "'",
                   "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";"}
_DECODED_RE = re.compile("|".join(HUBSPOT_DECODED), re.IGNORECASE)


def hubspot_uri(uri: str) -> str:
    """The URI as HubSpot puts it in the signed string (idempotent: decoding twice changes nothing)."""
    return _DECODED_RE.sub(lambda match: HUBSPOT_DECODED[match.group(0).upper()], uri)


def sign_v3(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    """The v3 signature HubSpot would send for this request."""
    source = f"{method.upper()}{hubspot_uri(uri)}{body}{timestamp}".encode()
    return base64.b64encode(hmac.new(secret.encode("utf-8"), source, hashlib.sha256).digest()).decode()


def sign_v2(secret: str, method: str, uri: str, body: str) -> str:
    """The v2 signature: the URI exactly as called (no decoding table in v2)."""
    return hashlib.sha256(f"{secret}{method.upper()}{uri}{body}".encode()).hexdigest()


def sign_v1(secret: str, body: str) -> str:
    """The v1 signature: the body only (webhook deliveries)."""
    return hashlib.sha256(f"{secret}{body}".encode()).hexdigest()


def timestamp_is_fresh(timestamp: str | None, now_ms: int | None = None) -> bool:
    """Within the last five minutes and not (beyond drift) in the future."""
    if not timestamp or len(timestamp) > MAX_TIMESTAMP_DIGITS or not (timestamp.isascii() and timestamp.isdigit()):
        return False  # "²".isdigit() is true and int("²") raises
    now_ms = int(utcnow().timestamp() * 1000) if now_ms is None else now_ms
    age = now_ms - int(timestamp)
    return -FUTURE_SKEW_MS <= age <= MAX_AGE_MS


def request_uri() -> str:
    """The full URI HubSpot requested: PUBLIC_BASE_URL + raw path + raw query when configured."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        path = raw.split("?", 1)[0]
    else:  # servers that do not pass the raw request target on
        path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
    query = environ.get("QUERY_STRING", "")
    base = (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
    return f"{base}{path}" + (f"?{query}" if query else "")


def request_is_signed(versions=("v3",)) -> bool:
    """Check the current request against HUBSPOT_CLIENT_SECRET in the forms ``versions`` allows.

    v3 by default: v1 and v2 carry no timestamp, so a route accepts them only where HubSpot sends no
    v3. When a v3 header (or its timestamp) is present only v3 counts, always checked for age, so a
    request cannot be downgraded to a weaker form.
    """
    secret = current_app.config.get("HUBSPOT_CLIENT_SECRET")
    if not secret:
        log.warning("HUBSPOT_CLIENT_SECRET is not set: signed HubSpot requests cannot be verified")
        return False
    body = request.get_data(as_text=True)
    v3 = request.headers.get("X-HubSpot-Signature-v3")
    if v3 is not None or request.headers.get("X-HubSpot-Request-Timestamp") is not None:
        timestamp = request.headers.get("X-HubSpot-Request-Timestamp")
        if "v3" not in versions or not timestamp_is_fresh(timestamp):
            return False
        expected = sign_v3(secret, request.method, request_uri(), body, timestamp)
        return v3 is not None and hmac.compare_digest(expected.encode(), v3.encode())
    signature = request.headers.get("X-HubSpot-Signature")
    version = (request.headers.get("X-HubSpot-Signature-Version") or "v1").lower()
    if signature is None or version not in versions:
        return False
    log.info("HubSpot request to %s signed %s (no timestamp)", request.path, version)  # what really arrives
    if version == "v2":
        expected = sign_v2(secret, request.method, request_uri(), body)
    elif version == "v1":
        expected = sign_v1(secret, body)
    else:
        return False
    return hmac.compare_digest(expected.encode(), signature.lower().encode())
