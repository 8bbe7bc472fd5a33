"""Demo mode: Twilio's voice side. The demo phone dials here instead of Twilio.Device; this asks our
real /twilio/voice for TwiML and plays the WhatsApp leg's progress back to our real status webhook.

A demo call's progress lives in the database (a `WebhookEvent` row per call, keyed by the browser
leg's sid), so timers, simulator buttons and REST hang-ups agree across threads and processes.
"""
import contextlib
import threading
import xml.etree.ElementTree as ET
from email.utils import format_datetime
from urllib.parse import urlparse

from flask import current_app, jsonify

from widget_app.agents.accounts import agent_from_token
from widget_app.core.clock import parse_isoformat, utcnow
from widget_app.core.errors import DomainError
from widget_app.demo.blueprint import demo_blueprint
from widget_app.demo.faults import HOLD_BACK, delivery
from widget_app.demo.inbound import cancel_losers, leg_params, leg_sid
from widget_app.demo.twilio_cloud import demo_route, new_sid, post_webhook
from widget_app.demo.voice_steps import (
    ACTIONS,
    FAILURES,
    advance,
    call_key,
    claim_next_behaviour,
    current_calls,
    remember_next_behaviour,
)
from widget_app.models import Call, WebhookEvent, db
from widget_app.web.auth import bearer_token
from widget_app.web.jsonbody import json_body

bp = demo_blueprint("demo_voice", __name__)
# Each step and the seconds until the next (times DEMO_VOICE_DELAY_SCALE; 0 runs them all at once,
# for tests): initiated now, ringing after ~1 s, answered after ~2 s, "no-answer" after ~3 s.
NEXT_STEP = {"initiate": ("ring", 1.0), "ring": ("answer", 1.0), "answer": ("give_up", 1.0)}
HANG_UP_AFTER = 0.2
RESERVED = {"From", "Caller", "CallSid", "AccountSid", "ApplicationSid", "Direction", "CallStatus", "ApiVersion"}


def _connection():
    """Reuse the request's connection when there is one; open a short one in timer threads."""
    return contextlib.nullcontext() if not db.is_closed() else db.connection_context()


def schedule(app, parent_sid: str, event: str, seconds: float, chain: bool = False):
    """Run one step of the call's life after ``seconds`` (scaled; at once when 0). With ``chain``,
    the step then schedules the next one, so the steps keep their order whatever the delays."""
    delay = seconds * float(app.config.get("DEMO_VOICE_DELAY_SCALE", 1.0))

    def run():
        with app.app_context():
            with _connection():
                outcome = advance(parent_sid, event)
            if outcome:  # outside any transaction: the webhook is a request of its own
                send_status(app, *outcome)
            if chain and event in NEXT_STEP:
                schedule(app, parent_sid, *NEXT_STEP[event], chain=True)
    if delay <= 0:
        return run()
    timer = threading.Timer(delay, run)
    timer.daemon = True
    timer.start()


def send_status(app, state: dict, status: str, extra: dict):
    """One status callback of the WhatsApp leg, signed, to the URL our TwiML asked for."""
    params = {"CallSid": state["sid"], "ParentCallSid": state["parent_sid"], "CallStatus": status,
              "AccountSid": app.config["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{state['from']}",
              "To": state["to"], "Direction": "outbound-dial", "ApiVersion": "2010-04-01",
              "SequenceNumber": str(state["seq"]), "Timestamp": format_datetime(utcnow()),
              "CallbackSource": "call-progress-events", **extra}
    path, how = urlparse(state["status_callback"]).path, delivery(app)
    late = how["out_of_order"] and status in ("initiated", "ringing")  # arrives after what follows it
    app.extensions.setdefault("demo_twilio_callbacks", []).append(params)
    for _ in range(2 if how["duplicate"] else 1):
        post_webhook(app, path, params, delay=HOLD_BACK if late else 0.0)


@bp.post("/voice/connect")
def connect():
    """The demo phone's `Device.connect`: Twilio asks our /twilio/voice and dials what it answers."""
    agent = agent_from_token(bearer_token())
    if agent is None:
        raise DomainError("unauthorized", "Sign in to continue.")
    body = json_body(params=dict, identity=str)
    if body["identity"] != agent.voice_identity:
        raise DomainError("wrong_identity", "The demo phone may only dial as the signed-in agent.")
    app, parent_sid = current_app._get_current_object(), new_sid("CA")
    form = {name: str(value) for name, value in body["params"].items() if name not in RESERVED}
    form.update({"From": f"client:{agent.voice_identity}", "Caller": f"client:{agent.voice_identity}",
                 "CallSid": parent_sid, "AccountSid": app.config["TWILIO_ACCOUNT_SID"],
                 "ApplicationSid": app.config["TWILIO_TWIML_APP_SID"], "Direction": "inbound",
                 "CallStatus": "ringing", "ApiVersion": "2010-04-01"})
    answer = post_webhook(app, "/twilio/voice", form)
    if answer.status_code != 200:
        raise DomainError("twilio_error", f"Our voice webhook answered {answer.status_code}.")
    twiml = ET.fromstring(answer.get_data())
    whatsapp, dial = twiml.find("./Dial/WhatsApp"), twiml.find("./Dial")
    if whatsapp is None:
        spoken = " ".join((say.text or "").strip() for say in twiml.iter("Say")).strip()
        return jsonify({"sid": parent_sid, "status": "completed", "spoken": spoken})
    state = {"sid": new_sid("CA"), "parent_sid": parent_sid, "call_id": form.get("CallId"),
             "from": dial.get("callerId", "").removeprefix("whatsapp:"), "to": (whatsapp.text or "").strip(),
             "status_callback": whatsapp.get("statusCallback"), "state": "dialing",
             "behaviour": claim_next_behaviour() or "answer", "seq": -1, "answered_at": None}
    WebhookEvent.create(key=call_key(parent_sid), source="demo-voice-call", payload=state)
    schedule(app, parent_sid, "initiate", 0, chain=True)
    return jsonify({"sid": parent_sid, "status": "in-progress"})


@bp.post("/contact/call-action")
def call_action():
    """Simulator buttons: the WhatsApp contact declines, lets it ring out, or hangs up; or WhatsApp fails
    the call with a Twilio ErrorCode (``error_code``, 37000 unless told)."""
    body = json_body(action=str, error_code=(str, "37000"))
    action = body["action"]
    if action not in ACTIONS:
        raise DomainError("invalid_field", f"action must be one of {', '.join(ACTIONS)}.", field="action")
    if action == "fail":
        if body["error_code"] not in FAILURES:
            raise DomainError("invalid_field", f"error_code must be one of {', '.join(FAILURES)}.",
                              field="error_code")
        action = f"fail:{body['error_code']}"
    app, live = current_app._get_current_object(), current_calls()
    if not live:
        if action == "hang_up":
            raise DomainError("no_active_call", "There is no demo call to hang up.")
        remember_next_behaviour(action)  # the next call is declined / not answered
        return jsonify({"calls": [], "next_call": action})
    for parent_sid in live:
        schedule(app, parent_sid, action, 0)
    return jsonify({"calls": live, "next_call": None})


@demo_route("POST", r"/Calls/(?P<sid>CA\w+)\.json$")
def update_call(app, match, form):
    """`calls(sid).update(status="completed")`: the agent hangs up; Twilio ends both legs."""
    sid = match["sid"]
    if form.get("Status") not in ("completed", "canceled"):
        return 400, {"code": 21218, "message": "Invalid 'Status' parameter", "status": 400,
                     "more_info": "https://www.twilio.com/docs/errors/21218"}
    with app.app_context(), _connection():
        row = WebhookEvent.get_or_none(WebhookEvent.key == call_key(sid))
        call = None if row else Call.get_or_none(Call.sid == sid)
        if call is not None and call.parent_sid:
            row = WebhookEvent.get_or_none(WebhookEvent.key == call_key(call.parent_sid))
        state = dict(row.payload) if row else None
    if state is not None:
        schedule(app, state["parent_sid"], "hang_up", HANG_UP_AFTER)
        answered = state.get("answered_at") and parse_isoformat(state["answered_at"])
        return 200, _call_json(app, sid, state["parent_sid"], f"whatsapp:{state['from']}", state["to"], answered)
    if call is not None and call.direction == "inbound":
        with app.app_context(), _connection():
            _end_inbound(app, call)
        return 200, _call_json(app, sid, sid, f"whatsapp:{call.from_number}", f"whatsapp:{call.to_number}",
                               call.answered_at)
    return 404, {"code": 20404, "message": f"The requested resource /Calls/{sid}.json was not found",
                 "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}


@demo_route("GET", r"/Calls/(?P<sid>CA\w+)\.json$")
def fetch_call(app, match, form):
    """`calls(sid).fetch()`: the leg's state as Twilio's REST API reports it (the reconciler asks)."""
    sid = match["sid"]
    with app.app_context(), _connection():
        call = Call.get_or_none((Call.sid == sid) | (Call.parent_sid == sid))
        row = call and call.parent_sid and WebhookEvent.get_or_none(WebhookEvent.key == call_key(call.parent_sid))
    if call is None:
        return 404, {"code": 20404, "message": f"The requested resource /Calls/{sid}.json was not found",
                     "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}
    status = (row.payload.get("last_status") or "queued") if row else call.status
    answer = _call_json(app, sid, call.parent_sid or sid, f"whatsapp:{call.from_number}",
                        f"whatsapp:{call.to_number}", call.answered_at)
    return 200, {**answer, "status": status}


def _end_inbound(app, call: Call):
    """The agent hangs up an inbound call: its leg completes and the <Dial action> reports, as live."""
    done = {"CallSid": call.sid, "AccountSid": app.config["TWILIO_ACCOUNT_SID"], "CallStatus": "completed",
            "From": f"whatsapp:{call.from_number}", "To": f"whatsapp:{call.to_number}", "Direction": "inbound",
            "ApiVersion": "2010-04-01"}
    if call.status == "in-progress" and call.agent_id is not None:
        seconds = str(max(0, int((utcnow() - (call.answered_at or call.started_at)).total_seconds())))
        post_webhook(app, "/twilio/voice/status", leg_params(call, "completed", 3, CallDuration=seconds))
        post_webhook(app, "/twilio/voice/dial-done", {**done, "DialCallStatus": "completed",
                                                      "DialCallSid": leg_sid(call), "DialCallDuration": seconds})
    elif call.status in ("queued", "ringing"):
        cancel_losers(call, None)
        post_webhook(app, "/twilio/voice/dial-done", {**done, "DialCallStatus": "canceled"})


def _call_json(app, sid: str, parent_sid: str, from_: str, to: str, answered) -> dict:
    """Twilio's Call resource as the update answers it (the keys twilio-python reads)."""
    now = format_datetime(utcnow())
    return {"sid": sid, "account_sid": app.config["TWILIO_ACCOUNT_SID"], "status": "completed",
            "direction": "inbound" if sid == parent_sid else "outbound-dial",
            "parent_call_sid": None if sid == parent_sid else parent_sid,
            "from": from_, "to": to, "date_created": now, "date_updated": now,
            "start_time": now, "end_time": now, "api_version": "2010-04-01",
            "duration": str(int((utcnow() - answered).total_seconds())) if answered else "0",
            "uri": f"/2010-04-01/Accounts/{app.config['TWILIO_ACCOUNT_SID']}/Calls/{sid}.json"}
