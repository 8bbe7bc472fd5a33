"""Demo mode: the simulated WhatsApp leg's life (dialing, ringing, answered, ended) as steps on its row.

Each step is a compare-and-set on the call's `WebhookEvent` row, so a timer and a simulator button
firing together never both move the call; the winner gets the status callback to send.
"""
from datetime import timedelta

from widget_app.core.clock import isoformat, parse_isoformat, utcnow
from widget_app.models import WebhookEvent

ACTIONS = ("decline", "no_answer", "hang_up", "fail")
# What Twilio reports with a failed WhatsApp leg (reference §1.5), for the simulator's "fail with".
FAILURES = {"37000": "Call permission has not been granted or was revoked by the user",
            "37004": "Rate limit exceeded for calls to this user",
            "37006": "The user has reached the limit of business-initiated calls",
            "37007": "The business phone number's country cannot place WhatsApp calls",
            "37008": "WhatsApp could not connect the call"}


def failure(code: str) -> dict:
    """The extra fields of a failed leg's callback: Twilio's ErrorCode and its message."""
    return {"ErrorCode": code, "ErrorMessage": FAILURES.get(code, "The call failed"), "CallDuration": "0"}
ACTIVE = ("dialing", "initiated", "ringing", "answered")
NEXT_KEY = "demo-voice:contact-next"  # what the contact does with the next call (one-shot)


def call_key(parent_sid: str) -> str:
    return f"demo-voice:call:{parent_sid}"


def _decide(state: dict, event: str) -> tuple[str | None, dict]:
    """Move ``state`` (in place) for ``event``; returns the CallStatus to report (or None) and extra fields."""
    now, stage, behaviour = utcnow(), state["state"], state["behaviour"]
    if event == "decline" and stage == "answered":
        event = "hang_up"  # declining an answered call is hanging up
    if event.startswith("fail:") and stage in ("dialing", "initiated", "ringing"):
        state["state"] = "ended"
        return "failed", failure(event.removeprefix("fail:"))
    if event == "ring" and stage == "initiated" and behaviour.startswith("fail:"):
        state["state"] = "ended"  # WhatsApp refuses before the phone rings (no permission, caps)
        return "failed", failure(behaviour.removeprefix("fail:"))
    if event == "initiate" and stage == "dialing":
        state["state"] = "initiated"
        return "initiated", {}
    if event == "ring" and stage == "initiated":
        state["state"] = "ringing"
        return "ringing", {}
    if event == "answer" and stage == "ringing" and behaviour in ("answer", "decline"):
        if behaviour == "decline":
            state["state"] = "ended"
            return "busy", {"CallDuration": "0"}
        state["state"], state["answered_at"] = "answered", isoformat(now)
        return "in-progress", {}
    if event == "give_up" and stage == "ringing":
        state["state"] = "ended"
        return "no-answer", {"CallDuration": "0"}
    if event == "decline" and stage in ("dialing", "initiated", "ringing"):
        state["state"] = "ended"
        return "busy", {"CallDuration": "0"}
    if event == "no_answer" and stage in ("dialing", "initiated", "ringing"):
        state["behaviour"] = "no_answer"  # it keeps ringing until Twilio gives up
        return None, {}
    if event == "hang_up" and stage in ACTIVE:
        state["state"] = "ended"
        if stage != "answered":
            return "canceled", {"CallDuration": "0"}
        answered = parse_isoformat(state["answered_at"])
        return "completed", {"CallDuration": str(max(0, int((now - answered).total_seconds())))}
    return None, {}


def advance(parent_sid: str, event: str) -> tuple[dict, str, dict] | None:
    """Apply one event to the demo call; returns (state, CallStatus, extra) when a callback is due."""
    row = WebhookEvent.get_or_none(WebhookEvent.key == call_key(parent_sid))
    if row is None:
        return None
    old, state = row.payload, dict(row.payload)
    status, extra = _decide(state, event)
    if state == old:
        return None
    if status:
        state["seq"] += 1
        state["last_status"] = status  # what Twilio's REST API says of the leg (GET /Calls/CA….json)
    won = (WebhookEvent.update(payload=state)
           .where((WebhookEvent.key == call_key(parent_sid)) & (WebhookEvent.payload == old)).execute())
    return (state, status, extra) if won and status else None


def current_calls() -> list[str]:
    """Browser-leg sids of demo calls still dialing, ringing or answered (the last hour's)."""
    rows = (WebhookEvent.select()
            .where((WebhookEvent.source == "demo-voice-call") &
                   (WebhookEvent.received_at >= utcnow() - timedelta(hours=1)))
            .order_by(WebhookEvent.received_at.desc()))
    return [row.payload["parent_sid"] for row in rows if row.payload.get("state") in ACTIVE]


def remember_next_behaviour(action: str):
    """The contact will decline / not answer the next call (pressed before anyone dialed)."""
    (WebhookEvent.insert(key=NEXT_KEY, source="demo-voice-contact", payload={"behaviour": action},
                         received_at=utcnow())
     .on_conflict(conflict_target=[WebhookEvent.key],
                  update={WebhookEvent.payload: {"behaviour": action}, WebhookEvent.received_at: utcnow()})
     .execute())


def claim_next_behaviour() -> str | None:
    """Take the remembered behaviour for this call (only one call gets it)."""
    row = WebhookEvent.get_or_none(WebhookEvent.key == NEXT_KEY)
    if row and WebhookEvent.delete().where(WebhookEvent.id == row.id).execute():
        return row.payload.get("behaviour")
    return None
