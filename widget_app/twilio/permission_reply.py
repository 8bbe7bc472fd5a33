"""Read a WhatsApp user's answer to our call-permission request out of Twilio's messaging webhook form.

Twilio documents the answer (reference §2.2): a message with ``Body`` and ``ButtonText`` set to
``VOICE_CALL_REQUEST`` and ``ButtonPayload`` ``ACCEPTED`` or ``REJECTED``; no ``OriginalRepliedMessageSid``,
no expiry, no permanent flag. A provider may instead forward Meta's native ``interactive``
object of type ``call_permission_reply`` (``response``, ``is_permanent``, ``expiration_timestamp``,
``response_source``, and the message's ``context.id``) as JSON in a field of its own: that is read
too, from any field but the free-text ``Body``. Nothing else grants anything: free text, other
buttons, or a ``call_permission_reply`` lookalike typed into a message are not answers.
"""
import json
from datetime import UTC, datetime

from widget_app.permissions.rules import Reply

REQUEST_ACTION = "VOICE_CALL_REQUEST"
TWILIO_PAYLOADS = {"ACCEPTED": True, "REJECTED": False}
META_RESPONSES = {"accept": True, "reject": False}
FREE_TEXT_FIELDS = ("Body",)  # what the user types: never read as a structured answer


def parse_reply(form) -> Reply | None:
    """The Reply a messaging webhook carries, or None when the message is not a permission answer."""
    return _twilio_button(form) or _meta_native(form)


def _twilio_button(form) -> Reply | None:
    """Twilio's documented form: the VOICE_CALL_REQUEST button with ButtonPayload ACCEPTED or REJECTED."""
    payload = (form.get("ButtonPayload") or "").strip().upper()
    if payload not in TWILIO_PAYLOADS:
        return None
    if REQUEST_ACTION not in ((form.get("Body") or "").strip(), (form.get("ButtonText") or "").strip()):
        return None  # a button of some other template that happens to say ACCEPTED
    return Reply(accepted=TWILIO_PAYLOADS[payload], source="twilio_button")


def _meta_native(form) -> Reply | None:
    """Meta's ``interactive: {type: call_permission_reply, …}`` forwarded as JSON in a structured field."""
    for name, value in form.items():
        if name in FREE_TEXT_FIELDS:
            continue
        data = _json(value)
        found = _find_reply(data) if data is not None else None
        if found:
            return found
    return None


def _find_reply(data, context_id: str | None = None) -> Reply | None:
    """Depth-first through a document (a message, or Meta's whole webhook) for the interactive object."""
    if isinstance(data, list):
        return next(filter(None, (_find_reply(item, context_id) for item in data)), None)
    if not isinstance(data, dict):
        return None
    context = data.get("context")
    if isinstance(context, dict) and isinstance(context.get("id"), str):
        context_id = context["id"]
    inner = data.get("call_permission_reply")
    if data.get("type") == "call_permission_reply" and isinstance(inner, dict):
        return _from_meta(inner, context_id)
    return next(filter(None, (_find_reply(value, context_id) for value in data.values())), None)


def _from_meta(reply: dict, context_id: str | None) -> Reply | None:
    accepted = META_RESPONSES.get(str(reply.get("response", "")).strip().lower())
    if accepted is None:
        return None
    permanent = accepted and reply.get("is_permanent") is True
    expires_at = _timestamp(reply.get("expiration_timestamp")) if accepted and not permanent else None
    return Reply(accepted=accepted, permanent=permanent, expires_at=expires_at, source="meta",
                 automatic=str(reply.get("response_source", "")).lower() == "automatic", context_id=context_id)


def _timestamp(value) -> datetime | None:
    """Meta sends unix seconds (as a number or a string of digits)."""
    text = str(value).strip() if value is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _json(value):
    if not isinstance(value, str) or not value.strip().startswith(("{", "[")):
        return None
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return None
