"""Demo mode: a WhatsApp user calling in ("contact calls in", after hours too, leaving a voicemail) and Twilio's
callbacks for that call.

Only Twilio's side is played here: each endpoint posts the signed webhook Twilio would send, and
everything from our webhook inward is the live code path. As Twilio does, every <Client> leg our
TwiML rang reports its own progress (initiated, ringing), and when one leg answers the others are
canceled, their callbacks following the winner's ``in-progress`` (before it, when the simulator
delivers out of order; twice each, when it duplicates).
"""
import contextlib
import hashlib
import threading
import xml.etree.ElementTree as ET
from email.utils import format_datetime

from flask import current_app

from widget_app.calls import hours as business_hours
from widget_app.calls.missed import UNANSWERED
from widget_app.core import hours
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.phone import twilio_e164
from widget_app.demo.blueprint import demo_blueprint
from widget_app.demo.faults import HOLD_BACK, delivery
from widget_app.demo.hubspot_cloud import DEMO_CONTACT_PHONE
from widget_app.demo.recordings import DEMO_VOICEMAIL_SECONDS
from widget_app.demo.twilio_cloud import API_VERSION, new_sid, post_webhook
from widget_app.models import Agent, Call, PhoneNumber, WebhookEvent, db
from widget_app.web.jsonbody import json_body

bp = demo_blueprint("demo_inbound", __name__)
STATUS_PATH = "/twilio/voice/status"
SEQUENCE = {"initiated": 0, "ringing": 1, "in-progress": 2}  # a leg's SequenceNumber; its end comes next


def _webhook(path: str, params: dict):
    response = post_webhook(current_app._get_current_object(), path, params)
    if response.status_code >= 300:
        raise DomainError("webhook_failed", f"Our {path} webhook answered {response.status_code}.",
                       webhook_status=response.status_code)
    return response


@bp.post("/contact/call-in")
def call_in():
    """The simulator's "contact calls in": Twilio's signed inbound voice webhook for a WhatsApp call."""
    caller = twilio_e164(json_body(phone=(str, DEMO_CONTACT_PHONE))["phone"])
    config = current_app.config
    sender = f"whatsapp:{config['TWILIO_WHATSAPP_NUMBER']}"
    params = {"CallSid": new_sid("CA"), "AccountSid": config["TWILIO_ACCOUNT_SID"],
              "From": f"whatsapp:{caller}", "To": sender, "Caller": f"whatsapp:{caller}", "Called": sender,
              "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": API_VERSION}
    twiml = _webhook("/twilio/voice", params).get_data(as_text=True)
    call = Call.get(Call.sid == params["CallSid"])
    identities = [client.findtext("Identity") for client in ET.fromstring(twiml).iter("Client")]
    if identities:
        WebhookEvent.create(key=legs_key(call.sid), source="demo-inbound-legs", received_at=utcnow(),
                            payload={"identities": identities})
        # as Twilio, after it has our TwiML: the legs' callbacks come on their own, in order
        app = current_app._get_current_object()
        threading.Thread(target=_ring_legs, args=(app, call.id, identities), daemon=True,
                         name=f"demo-legs-{call.id}").start()
    return {"call": call.to_dict(), "twiml": twiml}, 201


def _ring_legs(app, call_id: int, identities: list[str]):
    with app.app_context():
        with db.connection_context():
            call = Call.get_by_id(call_id)
        for status in ("initiated", "ringing"):  # each webhook is a request of its own (its own connection)
            for identity in identities:
                send_leg(call, identity, status)


def legs_key(call_sid: str) -> str:
    return f"demo-inbound:legs:{call_sid}"


def rung_identities(call: Call) -> list[str]:
    """The <Client> identities our TwiML rang for this call (Twilio's record, not our CallRing rows)."""
    row = WebhookEvent.get_or_none(WebhookEvent.key == legs_key(call.sid))
    return list(row.payload["identities"]) if row else []


def send_leg(call: Call, identity: str, status: str, **extra):
    """One <Client> leg's status callback, signed, as the simulator's delivery switches say: an early
    one (initiated, ringing, in-progress) held back behind what follows it, each sent twice."""
    app = current_app._get_current_object()
    if status in SEQUENCE:
        sequence = SEQUENCE[status]
    else:  # the leg's end: after in-progress when it was answered, else after ringing
        sequence, extra = SEQUENCE["in-progress" if status == "completed" else "ringing"] + 1, {
            "CallDuration": "0", **extra}
    params = leg_params(call, status, sequence, identity=identity, **extra)
    how = delivery(app)
    late = how["out_of_order"] and status in SEQUENCE
    app.extensions.setdefault("demo_twilio_callbacks", []).append(params)
    for _ in range(2 if how["duplicate"] else 1):
        post_webhook(app, STATUS_PATH, params, delay=HOLD_BACK if late else 0.0)


def cancel_losers(call: Call, winner: str | None):
    """Twilio cancels every <Client> leg but the answered one (all of them when nobody answered)."""
    for identity in rung_identities(call):
        if identity != winner:
            send_leg(call, identity, "canceled")


def _inbound_call() -> Call:
    call = Call.get_or_none(Call.id == json_body(call_id=int)["call_id"], Call.direction == "inbound")
    if call is None:
        raise DomainError("not_found", "No such inbound call.")
    return call


def leg_sid(call: Call, identity: str | None = None) -> str:
    """A browser's leg: one stable CallSid per (call, agent), so ring, answer and hang-up agree."""
    agent_id = call.agent_id if identity is None else Agent.id_of_voice_identity(identity)
    return "CA" + hashlib.sha256(f"{call.sid}:{agent_id}".encode()).hexdigest()[:32]


def leg_params(call: Call, status: str, sequence: int, identity: str | None = None, **extra) -> dict:
    """A <Client> leg's status callback as Twilio sends it (ParentCallSid = the WhatsApp leg): the
    answering agent's leg unless ``identity`` names another."""
    identity = identity or Agent.get_by_id(call.agent_id).voice_identity
    client = f"client:{identity}"
    return {"CallSid": leg_sid(call, identity), "ParentCallSid": call.sid,
            "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{call.from_number}",
            "To": client, "Caller": f"whatsapp:{call.from_number}", "Called": client,
            "CallStatus": status, "Direction": "outbound-dial", "ApiVersion": API_VERSION,
            "CallbackSource": "call-progress-events", "SequenceNumber": str(sequence),
            "Timestamp": format_datetime(utcnow()), **extra}


@bp.post("/voice/inbound-answer")
def inbound_answer():
    """The widget's demo phone picked up: Twilio reports the agent's leg answered (in-progress)."""
    call = _inbound_call()
    if call.agent_id is None:
        raise DomainError("not_claimed", "Accept the call first (POST /api/calls/<id>/accept).")
    if call.status != "ringing":
        raise DomainError("call_not_ringing", "This call is no longer ringing.", call_status=call.status)
    winner = Agent.get_by_id(call.agent_id).voice_identity
    if winner in rung_identities(call):
        send_leg(call, winner, "in-progress")
        cancel_losers(call, winner)
    else:  # not one of the legs the simulator rang: the answer alone, as before
        _webhook(STATUS_PATH, leg_params(call, "in-progress", SEQUENCE["in-progress"]))
    return {"call": Call.get_by_id(call.id).to_dict()}


@bp.post("/contact/hang-up-inbound")
def hang_up_inbound():
    """The WhatsApp user hangs up: the answered leg completes, or the ringing Dial is canceled."""
    call = _inbound_call()
    dial = {"CallSid": call.sid, "AccountSid": current_app.config["TWILIO_ACCOUNT_SID"],
            "From": f"whatsapp:{call.from_number}", "To": f"whatsapp:{call.to_number}",
            "CallStatus": "completed", "Direction": "inbound", "ApiVersion": API_VERSION}
    if call.status == "in-progress" and call.agent_id is not None:
        answered = call.answered_at or call.started_at
        seconds = str(max(0, int((utcnow() - answered).total_seconds())))
        _webhook(STATUS_PATH, leg_params(call, "completed", 3, CallDuration=seconds))
        _webhook("/twilio/voice/dial-done", {**dial, "DialCallStatus": "completed",
                                             "DialCallSid": leg_sid(call), "DialCallDuration": seconds})
    elif call.status == "ringing":
        cancel_losers(call, None)  # the caller gave up: every ringing browser's leg is canceled
        _webhook("/twilio/voice/dial-done", {**dial, "DialCallStatus": "canceled"})
    return {"call": Call.get_by_id(call.id).to_dict()}


# ---- issue 15: after hours and voicemail ---------------------------------------------------------

@contextlib.contextmanager
def _closed_today(e164: str):
    """The number closed for today (a holiday in its time zone) while the webhook runs, then as it was."""
    row = PhoneNumber.get_or_none(PhoneNumber.e164 == e164)
    before = (row.time_zone, row.hours, row.closed_dates) if row else None
    tz = (row.time_zone if row and row.hours else None) or "UTC"
    if not (row and row.hours):  # no hours means always open: give it some, closed today all the same
        business_hours.set_hours(e164, tz, "mon-sun 00:00-23:59")
    business_hours.add_closed_date(e164, utcnow().astimezone(hours.zone(tz)).date().isoformat())
    try:
        yield
    finally:
        if before is None:
            PhoneNumber.delete().where(PhoneNumber.e164 == e164).execute()
        else:
            PhoneNumber.update(time_zone=before[0], hours=before[1], closed_dates=before[2]).where(
                PhoneNumber.e164 == e164).execute()


@bp.post("/contact/call-in-after-hours")
def call_in_after_hours():
    """The simulator's "contact calls in after hours": our sender is closed today while Twilio's inbound
    webhook runs, so the caller hears AFTER_HOURS_MESSAGE and (VOICEMAIL on) the voicemail greeting."""
    with _closed_today(current_app.config["TWILIO_WHATSAPP_NUMBER"]):
        return call_in()


@bp.post("/contact/leave-voicemail")
def leave_voicemail():
    """The simulator's "contact leaves a voicemail": on the call in progress (a ringing call first rings out,
    as Twilio's <Dial action> reports it), else on a new call in; then Twilio's <Record action> and its
    recording status callback, whose audio the demo's media serves."""
    body = json_body(call_id=(int, None))
    if body["call_id"] is None:
        call_in()
        call = Call.select().where(Call.direction == "inbound").order_by(Call.id.desc()).get()
    else:
        call = _inbound_call()
    if not current_app.config.get("VOICEMAIL"):
        raise DomainError("invalid_state", "Voicemail is off (VOICEMAIL=false): the caller cannot leave a message.")
    config = current_app.config
    base = {"CallSid": call.sid, "AccountSid": config["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{call.from_number}",
            "To": f"whatsapp:{call.to_number}", "Direction": "inbound", "ApiVersion": API_VERSION}
    if call.status == "ringing" and call.answered_at is None:
        _webhook("/twilio/voice/dial-done", {**base, "CallStatus": "in-progress", "DialCallStatus": "no-answer"})
        call = Call.get_by_id(call.id)
    if call.answered_at is not None or call.status not in UNANSWERED:
        raise DomainError("invalid_state", "This call was answered: there is nothing to leave a voicemail on.")
    recording_sid = new_sid("RE")
    recording = {**base, "RecordingSid": recording_sid, "RecordingDuration": str(DEMO_VOICEMAIL_SECONDS),
                 "RecordingUrl": f"https://api.twilio.com/{API_VERSION}/Accounts/{config['TWILIO_ACCOUNT_SID']}"
                                 f"/Recordings/{recording_sid}"}
    _webhook("/twilio/voicemail/done", {**recording, "CallStatus": "in-progress", "Digits": "hangup"})
    _webhook("/twilio/voicemail/status", {**recording, "RecordingStatus": "completed", "RecordingChannels": "1",
                                          "RecordingSource": "RecordVerb"})
    return {"call": Call.get_by_id(call.id).to_dict()}
