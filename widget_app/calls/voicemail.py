"""Voicemail (VOICEMAIL): a call nobody answered (nobody available, everyone declined, rang out, after hours)
hears why, the greeting and the consent notice, then leaves a message that is kept on the missed call.

The message's audio is the call's recording (``recording_url``/``recording_sid``: a missed call has no other),
its length ``voicemail_seconds``; so HubSpot's timeline, its authenticated recording link and the Missed list
all reach it the way they reach a recorded call.
"""
import logging

from flask import current_app

from widget_app.calls import hours as business_hours
from widget_app.calls import missed
from widget_app.calls.recordings import Recording, completed_recording_call
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.hubspot import engagements
from widget_app.models import Agent, Call, WebhookEvent, db

log = logging.getLogger(__name__)
NOBODY_PROMPT = "Sorry, nobody can take your call right now."
MAX_SECONDS_CAP = 3600  # Twilio's <Record maxLength> limit is 4 hours; an hour is plenty for a voicemail


def enabled() -> bool:
    return bool(current_app.config.get("VOICEMAIL"))


def max_seconds() -> int:
    return max(1, min(int(current_app.config.get("VOICEMAIL_MAX_SECONDS") or 120), MAX_SECONDS_CAP))


def offered(call: Call) -> bool:
    """Does this unanswered inbound call go to voicemail (rather than a message and a hang-up)?"""
    return enabled() and call.direction == "inbound" and call.answered_at is None


def prompts(call: Call) -> list[str]:
    """What the caller hears before the tone: why nobody answers, the greeting, the recording notice if set."""
    config = current_app.config
    reason = business_hours.caller_message(call) or NOBODY_PROMPT
    consent = (config.get("RECORDING_CONSENT_MESSAGE") or "").strip()
    return [text for text in (reason, (config.get("VOICEMAIL_GREETING") or "").strip(), consent) if text]


def _seconds(duration: str | None) -> int:
    try:
        return max(0, int(duration or 0))
    except ValueError:
        raise DomainError("invalid_recording", "RecordingDuration must be a whole number of seconds.") from None


def store(recording: Recording) -> tuple[Call | None, bool]:
    """Keep a finished voicemail on its missed call once per RecordingSid, and refresh the call's one HubSpot
    engagement (now with the recording) through the outbox in the same transaction. Returns (call, changed)."""
    seconds = _seconds(recording.duration)
    call = completed_recording_call(recording)
    if call is None:
        return None, False
    if call.direction != "inbound" or call.answered_at is not None:
        raise DomainError("not_a_voicemail", "Only an inbound call nobody answered can hold a voicemail.")
    with db.atomic():
        if not WebhookEvent.record_once(f"twilio-recording:{recording.sid}", "twilio",
                                        {"CallSid": recording.call_sid, "RecordingUrl": recording.url}):
            return call, False  # Twilio sent it again: already stored and queued
        Call.update(recording_url=recording.url, recording_sid=recording.sid, voicemail_seconds=seconds,
                    updated_at=utcnow()).where(Call.id == call.id).execute()
        call = Call.get_by_id(call.id)
        engagements.enqueue_call_sync(call)
    log.info("voicemail of %s s kept on missed call %s", seconds, call.id)
    missed.tell_viewers(call)
    return call, True


def playable_for(agent: Agent, call_id: int) -> Call:
    """A voicemail the agent may hear: on a missed call the Missed list shows them (404 otherwise)."""
    call = missed.missed_for(agent).where(Call.id == call_id).first()
    if call is None or call.voicemail_seconds is None or not call.recording_url:
        raise DomainError("not_found", "There is no voicemail on this call for you.")
    return call
