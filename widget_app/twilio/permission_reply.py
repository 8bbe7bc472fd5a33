"""Read a WhatsApp user's call-permission answer out of Twilio's messaging webhook form.

How Twilio forwards Meta's ``call_permission_reply`` (response accept/reject, is_permanent,
expiration_timestamp) is not documented (reference §2.2, a GAP), so this parser is tolerant: it
looks for that object in any field holding JSON, then in flat fields named like it, then in our
quick-reply payloads (``PERMISSION_ACCEPT``…), and, only for a button tapped on our own request
message, in the button's words. Anything else is not a reply (the caller stores and ignores it).
"""
import json
import re
from datetime import UTC, datetime

from widget_app.core.clock import parse_isoformat
from widget_app.permissions.rules import Reply

BUTTON_PAYLOADS = {
    "PERMISSION_ACCEPT": Reply(accepted=True),
    "PERMISSION_ACCEPT_PERMANENT": Reply(accepted=True, permanent=True),
    "PERMISSION_REJECT": Reply(accepted=False),
}
ACCEPT = {"accept", "accepted", "allow", "allowed", "approve", "approved", "grant", "granted", "yes"}
REJECT = {"reject", "rejected", "decline", "declined", "deny", "denied", "dontallow", "notallow", "no"}
PERMANENT_WORDS = ("always", "permanent")


def parse_reply(form, answers_our_request: bool = False) -> Reply | None:
    """The Reply in a messaging webhook form, or None when the message is not a permission answer."""
    fields = {name: value for name, value in form.items()}
    for value in fields.values():
        data = _json(value)
        if data is not None:
            found = _search(data)
            if found:
                return found
    found = _from_mapping(fields)
    if found:
        return found
    payload = fields.get("ButtonPayload", "").strip()
    if payload in BUTTON_PAYLOADS:
        return BUTTON_PAYLOADS[payload]
    if answers_our_request and fields.get("MessageType", "").lower() in ("button", "interactive"):
        for text in (payload, fields.get("ButtonText", "")):
            answer = _answer_in(text)
            if answer is not None:
                return Reply(accepted=answer, permanent=answer and any(w in _norm(text) for w in PERMANENT_WORDS))
    return None


def _search(data) -> Reply | None:
    """Depth-first through a JSON document for a call_permission_reply-shaped object."""
    if isinstance(data, dict):
        inner = data.get("call_permission_reply")
        if isinstance(inner, dict):
            found = _from_mapping(inner)
            if found:
                return found
        found = _from_mapping(data)
        if found:
            return found
        children = data.values()
    elif isinstance(data, list):
        children = data
    else:
        return None
    for child in children:
        found = _search(child)
        if found:
            return found
    return None


def _from_mapping(mapping: dict) -> Reply | None:
    """Keys ending in "response" with accept/reject, "…permanent…" and "…expiration…"/"…expires…" beside it."""
    flat = {_norm(key): value for key, value in mapping.items() if isinstance(key, str)}
    answer = next((_answer(_norm(v)) for k, v in flat.items()
                   if k.endswith("response") and isinstance(v, str) and _answer(_norm(v)) is not None), None)
    if answer is None:
        return None
    permanent = next((_truthy(v) for k, v in flat.items() if "permanent" in k), False)
    expiry = next((_timestamp(v) for k, v in flat.items() if "expiration" in k or "expires" in k), None)
    return Reply(accepted=answer, permanent=bool(answer and permanent), expires_at=expiry if answer else None)


def _answer(word: str) -> bool | None:
    return True if word in ACCEPT else False if word in REJECT else None


def _answer_in(text: str) -> bool | None:
    """A button's words ("Allow calls", "Don't allow"): a reject word wins over an accept word."""
    words = {_norm(w) for w in re.split(r"\s+", text.replace("'", "")) if w}
    joined = _norm(text)
    if words & REJECT or "dontallow" in joined or "notallow" in joined:
        return False
    return True if words & ACCEPT else None


def _norm(text) -> str:
    return re.sub(r"[^a-z0-9]", "", str(text).lower())


def _truthy(value) -> bool:
    return value is True or (isinstance(value, (int, str)) and str(value).strip().lower() in ("true", "1", "yes"))


def _timestamp(value) -> datetime | None:
    """Meta sends unix seconds; accept milliseconds and ISO 8601 too."""
    try:
        if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
            seconds = float(value)
            seconds = seconds / 1000 if seconds > 1e11 else seconds
            return datetime.fromtimestamp(seconds, UTC)
        if isinstance(value, str) and value.strip():
            return parse_isoformat(value)
    except (ValueError, OverflowError, OSError):
        return None
    return None


def _json(value):
    if not isinstance(value, str) or not value.strip().startswith(("{", "[")):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None
