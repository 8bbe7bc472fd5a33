"""Recording calls (RECORD_CALLS): the <Dial> attributes, the consent notice, and keeping what Twilio recorded."""
import logging
from dataclasses import dataclass

from flask import current_app

from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.hubspot import engagements
from widget_app.models import Call, WebhookEvent, db

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recording:
    """A recording status callback, as the Twilio webhook read it."""
    sid: str
    status: str
    url: str
    call_sid: str
    parent_call_sid: str | None = None
    duration: str | None = None  # RecordingDuration, seconds (a voicemail's length)


def recording_enabled() -> bool:
    return bool(current_app.config.get("RECORD_CALLS"))


def dial_recording_attrs() -> dict:
    """Extra <Dial> attributes: record both parties on separate channels from answer, tell us when done."""
    if not recording_enabled():
        return {}
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    return {"record": "record-from-answer-dual",
            "recordingStatusCallback": f"{base.rstrip('/')}/twilio/recording/status",
            "recordingStatusCallbackMethod": "POST",
            "recordingStatusCallbackEvent": "completed"}


def consent_say_text() -> str | None:
    """The announcement to play before a recorded call is bridged, or None (not recording / not set)."""
    message = (current_app.config.get("RECORDING_CONSENT_MESSAGE") or "").strip()
    return message if recording_enabled() and message else None


def find_call_for_recording(call_sid: str, parent_sid: str | None) -> Call | None:
    """The call a recording belongs to: Twilio reports the leg that ran <Dial> (our sid or parent)."""
    for sid in filter(None, (call_sid, parent_sid)):
        call = Call.by_twilio_sid(sid)
        if call:
            return call
    return None


def store_recording(recording: Recording) -> tuple[Call | None, bool]:
    """Keep a completed recording on its call and queue the engagement update. Returns (call, changed)."""
    call = completed_recording_call(recording)
    if call is None:
        return None, False
    with db.atomic():
        if not WebhookEvent.record_once(f"twilio-recording:{recording.sid}", "twilio",
                                        {"CallSid": recording.call_sid, "RecordingUrl": recording.url}):
            return call, False  # Twilio sent it again: already stored and queued
        call.recording_url, call.recording_sid, call.updated_at = recording.url, recording.sid, utcnow()
        call.save()
        engagements.enqueue_call_sync(call)
    return call, True


def completed_recording_call(recording: Recording) -> Call | None:
    """The call a well-formed recording callback names, or None while the recording is not completed."""
    if not recording.sid.startswith("RE") or not recording.call_sid:
        raise DomainError("invalid_recording", "RecordingSid and CallSid are required.")
    if recording.status != "completed":
        log.info("recording %s for %s ended %s", recording.sid, recording.call_sid, recording.status)
        return None
    if not recording.url.startswith("https://"):
        raise DomainError("invalid_recording", "RecordingUrl must be an https URL.")
    call = find_call_for_recording(recording.call_sid, recording.parent_call_sid)
    if call is None:
        raise DomainError("call_not_found", "No call matches this recording.")
    return call
