"""Twilio's webhooks (CONTRACT §5): voice (outbound dial, inbound ring, status, dial-done, consent),
voicemail (recording done, recording ready), messaging (permission replies, delivery status) and recordings.

Every request is signature-verified. Twilio's wire format ends here: forms become typed values for
the call and permission services, and their plain results become TwiML (``twiml``).
"""
import logging
import re
from functools import wraps

from flask import Blueprint, Response, jsonify, request, url_for

from widget_app.calls import hours as business_hours
from widget_app.calls import inbound, outbound, recordings, voicemail
from widget_app.calls.progress import StatusUpdate, apply_status_callback
from widget_app.config import public_base_url
from widget_app.core.phone import masked
from widget_app.core.text import is_storable
from widget_app.permissions import messages
from widget_app.twilio import twiml
from widget_app.twilio.signatures import is_valid_twilio_request
from widget_app.web.errors import HttpError

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
log = logging.getLogger(__name__)
# Twilio's SIDs are two letters and 32 hex digits (CA… calls, SM/MM… messages); we ask only for a
# bounded run of ASCII letters and digits, enough to keep them out of trouble in a column or a URL.
SID_RE = re.compile(r"[A-Za-z0-9]{2,64}")
STORED_SIDS = ("CallSid", "ParentCallSid", "MessageSid", "SmsMessageSid", "SmsSid", "RecordingSid",
               "OriginalRepliedMessageSid")
# Fields that end up in (or are compared with) 255-character columns; Body and JSON fields are text.
SHORT_FIELDS = ("From", "To", "Caller", "Called", "CallStatus", "DialCallStatus", "SequenceNumber", "CallDuration",
                "ErrorCode", "CallId", "MessageStatus", "SmsStatus", "RecordingStatus", "MessageType",
                "ButtonPayload", "RecordingDuration")
MAX_SHORT_FIELD = 255
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def twilio_verified(view):
    """Reject (403, nothing changed) any request not signed with our Twilio auth token, and (400) a
    signed one whose SIDs or fields could not be Twilio's."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not is_valid_twilio_request():
            raise HttpError(403, "invalid_signature", "The Twilio signature is missing or wrong.")
        check_form(request.form)
        return view(*args, **kwargs)
    return wrapper


def check_form(form):
    """The SIDs we store and look up have Twilio's shape, short fields fit their columns, and no text holds
    NUL or unpaired surrogates (400 otherwise)."""
    if not all(is_storable(key) and is_storable(value) for key, value in form.items(multi=True)):
        raise HttpError(400, "invalid_request", "The form holds text with NUL or unpaired surrogates.")
    for field in STORED_SIDS:
        value = form.get(field)
        if value and not SID_RE.fullmatch(value):
            raise HttpError(400, "invalid_field", f"{field} is not a Twilio SID.", field=field)
    for field in SHORT_FIELDS:
        if len(form.get(field, "")) > MAX_SHORT_FIELD:
            raise HttpError(400, "invalid_field", f"{field} is too long.", field=field)


# ---- voice -------------------------------------------------------------------------------------

@bp.post("/voice")
@twilio_verified
def voice():
    """The TwiML App's voice URL: a browser dialing out (client:) or a WhatsApp user calling in."""
    form = request.form
    if form.get("From", "").startswith("whatsapp:"):
        return twiml.twiml_response(inbound_twiml(form))
    if form.get("From", "").startswith("client:") or form.get("Caller", "").startswith("client:"):
        return twiml.twiml_response(_outbound(form))
    log.warning("voice webhook from an unexpected caller %s", masked(form.get("From")))
    return twiml.twiml_response(twiml.say_and_hang_up("This call cannot be connected."))


def _outbound(form) -> str:
    """Dial the WhatsApp user only for the agent's own queued call that the permission still allows."""
    caller = next((v for v in (form.get("From", ""), form.get("Caller", "")) if v.startswith("client:")), "")
    try:
        call = outbound.authorize_outbound(identity=caller[len("client:"):], leg_sid=form.get("CallSid", ""),
                                           call_id=form.get("CallId", ""), dialed=form.get("To", ""))
    except outbound.CallRefused as refusal:
        log.info("outbound call refused (%s) for %s", refusal.code, form.get("From"))
        return twiml.say_and_hang_up(refusal.spoken)
    consent = recordings.consent_say_text()
    whisper_url = public_base_url() + url_for(".consent") if consent else None
    return twiml.outbound_whatsapp_dial(call.from_number, call.to_number, public_base_url() + url_for(".voice_status"),
                                        dial_attrs=recordings.dial_recording_attrs(), whisper_url=whisper_url)


def inbound_twiml(form) -> str:
    """A WhatsApp user calls: ring the agents who can take the call, or tell the caller nobody can."""
    ring = inbound.receive(form.get("CallSid", ""), form.get("From", ""), form.get("To", ""))
    if not ring.agents:
        if voicemail.offered(ring.call):
            return voicemail_twiml(ring.call)
        return twiml.say_and_hang_up(business_hours.caller_message(ring.call) or inbound.NOBODY_MESSAGE)
    base = public_base_url()
    return twiml.ring_agents([agent.voice_identity for agent in ring.agents], ring.call.id,
                             action=base + url_for(".dial_done"), status_callback=base + url_for(".voice_status"),
                             timeout=inbound.RING_SECONDS, consent=recordings.consent_say_text(),
                             dial_attrs=recordings.dial_recording_attrs())


@bp.post("/voice/consent")
@twilio_verified
def consent():
    """Played to the WhatsApp user after they answer, before the agent is bridged: the recording notice."""
    return twiml.twiml_response(twiml.say(recordings.consent_say_text()))


@bp.post("/voice/status")
@twilio_verified
def voice_status():
    """Twilio's status callbacks for every call leg we follow (idempotent; order does not matter)."""
    form = request.form
    apply_status_callback(StatusUpdate(
        sid=form.get("CallSid", ""), status=form.get("CallStatus", ""), parent_sid=form.get("ParentCallSid"),
        sequence=form.get("SequenceNumber", ""), duration=form.get("CallDuration"),
        error_code=form.get("ErrorCode"), error_message=form.get("ErrorMessage"),
        client=_client_identity(form.get("To", "")), raw=dict(form.items())))
    return "", 204


def _client_identity(to: str) -> str | None:
    """The browser a <Client> leg rang: Twilio's ``To`` reads ``client:<identity>``."""
    return to[len("client:"):] if to.startswith("client:") else None


@bp.post("/voice/dial-done")
@twilio_verified
def dial_done():
    """<Dial action> of an inbound call: a call nobody took ends as missed."""
    return twiml.twiml_response(dial_done_twiml(request.form))


def dial_done_twiml(form) -> str:
    """Offer voicemail (or say nobody could answer) unless the caller hung up themselves; end the call."""
    call = inbound.dial_finished(form.get("CallSid", ""), form.get("DialCallStatus", ""))
    if call is not None:
        if voicemail.offered(call):
            return voicemail_twiml(call)
        return twiml.say_and_hang_up(inbound.NOBODY_MESSAGE)
    return twiml.hang_up()


# ---- voicemail ---------------------------------------------------------------------------------

def voicemail_twiml(call) -> str:
    """Why nobody answers, the greeting and the consent notice, then <Record> with our two callbacks."""
    base = public_base_url()
    return twiml.record_voicemail(voicemail.prompts(call), action=base + url_for(".voicemail_done"),
                                  recording_status_callback=base + url_for(".voicemail_status"),
                                  max_length=voicemail.max_seconds())


@bp.post("/voicemail/done")
@twilio_verified
def voicemail_done():
    """<Record action>: the caller finished (or hung up); the audio arrives at /voicemail/status."""
    return twiml.twiml_response(twiml.hang_up())


@bp.post("/voicemail/status")
@twilio_verified
def voicemail_status():
    """<Record recordingStatusCallback>: keep the voicemail on its missed call (idempotent per RecordingSid)."""
    call, changed = voicemail.store(_recording(request.form, duration=request.form.get("RecordingDuration")))
    return jsonify(call_id=call.id if call else None, stored=changed)


# ---- messaging ---------------------------------------------------------------------------------

@bp.post("/messaging")
@twilio_verified
def message():
    """A WhatsApp message to our sender: maybe the contact's answer to our call-permission request."""
    messages.apply_reply(request.form)
    return Response(EMPTY_TWIML, mimetype="text/xml")  # we never answer with a message


@bp.post("/messaging/status")
@twilio_verified
def message_status():
    """Twilio's status callback for a permission request we sent (sent, delivered, read, failed…)."""
    messages.apply_delivery_status(request.form)
    return "", 204


# ---- recordings --------------------------------------------------------------------------------

def _recording(form, **extra) -> recordings.Recording:
    """A recording status callback's fields (a call's recording or a voicemail), as the services take them."""
    return recordings.Recording(sid=form.get("RecordingSid", ""), status=form.get("RecordingStatus", ""),
                                url=form.get("RecordingUrl", ""), call_sid=form.get("CallSid", ""), **extra)


@bp.post("/recording/status")
@twilio_verified
def recording_status():
    """A finished recording: store its URL on the call and queue hs_call_recording_url (idempotent)."""
    call, changed = recordings.store_recording(_recording(request.form, parent_call_sid=request.form.get("ParentCallSid")))
    return jsonify(call_id=call.id if call else None, stored=changed)
