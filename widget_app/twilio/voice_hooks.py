"""Twilio voice webhooks: outbound and inbound TwiML, status callbacks, dial-done (CONTRACT §5)."""
import logging

from flask import Blueprint, current_app, request, url_for

from widget_app.calls import outbound as calls
from widget_app.twilio.signatures import public_base_url, twilio_verified
from widget_app.twilio.twiml import outbound_whatsapp_dial, say, say_and_hang_up, twiml_response

bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")
log = logging.getLogger(__name__)


@bp.post("")
@twilio_verified
def voice():
    """The TwiML App's voice URL: a browser dialing out (client:) or a WhatsApp user calling in."""
    form = request.form
    if form.get("From", "").startswith("whatsapp:"):
        from widget_app.calls import inbound as routing  # the inbound side decides who gets rung
        return twiml_response(routing.inbound_twiml(form))
    if form.get("From", "").startswith("client:") or form.get("Caller", "").startswith("client:"):
        return twiml_response(_outbound(form))
    log.warning("voice webhook from an unexpected caller %r", form.get("From"))
    return twiml_response(say_and_hang_up("This call cannot be connected."))


def _outbound(form) -> str:
    """Dial the WhatsApp user only for the agent's own queued call that the permission still allows."""
    try:
        call = calls.authorize_outbound(form)
    except calls.CallRefused as refusal:
        log.info("outbound call refused (%s) for %s", refusal.code, form.get("From"))
        return say_and_hang_up(refusal.spoken)
    dial_attrs, whisper_url = _recording()
    return outbound_whatsapp_dial(call.from_number, call.to_number, public_base_url() + url_for(".status"),
                                  dial_attrs=dial_attrs, whisper_url=whisper_url)


def _recording() -> tuple[dict, str | None]:
    """<Dial> recording attributes and the consent whisper's URL when RECORD_CALLS is on."""
    if not current_app.config.get("RECORD_CALLS"):
        return {}, None
    try:
        from widget_app.hubspot import recordings
    except ImportError:  # INTEGRATION POINT: hubspot/recordings.py (recording work) is not there yet
        log.error("RECORD_CALLS is on but widget_app.hubspot.recordings is missing; not recording")
        return {}, None
    whisper_url = public_base_url() + url_for(".consent") if recordings.consent_say_text() else None
    return dict(recordings.dial_recording_attrs()), whisper_url


@bp.post("/consent")
@twilio_verified
def consent():
    """Played to the WhatsApp user after they answer, before the agent is bridged: the recording notice."""
    from widget_app.hubspot import recordings
    return twiml_response(say(recordings.consent_say_text()))


@bp.post("/status")
@twilio_verified
def status():
    """Twilio's status callbacks for every call leg we follow (idempotent; order does not matter)."""
    calls.apply_status_callback(request.form)
    return "", 204


@bp.post("/dial-done")
@twilio_verified
def dial_done():
    """<Dial action> of an inbound call: the inbound side ends a call nobody took."""
    from widget_app.calls import inbound as routing
    return twiml_response(routing.dial_done_twiml(request.form))
