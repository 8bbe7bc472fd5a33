"""HTTP API of calls (CONTRACT §4): placing and ending them, inbound ringing and claiming, presence,
our senders and the browser's voice token."""
from flask import Blueprint, jsonify, url_for

from widget_app.calls import inbound, missed, voicemail
from widget_app.calls import outbound as calls
from widget_app.calls.senders import all_senders, resolve_sender
from widget_app.core.errors import DomainError
from widget_app.core.ids import parse_id
from widget_app.hubspot import recordings
from widget_app.hubspot.engagements import external_id
from widget_app.models import Agent
from widget_app.realtime import events
from widget_app.twilio.tokens import voice_token
from widget_app.web.auth import current_agent, login_required
from widget_app.web.jsonbody import json_body

bp = Blueprint("calls_api", __name__, url_prefix="/api")


@bp.post("/calls/initiate")
@login_required
def initiate():
    """Record the call the agent is about to place (permission and daily cap checked) and say how to dial it."""
    body = json_body(phone=str, **{"from": (str, None), "hubspot": (dict, {})})
    sender = resolve_sender(body["from"])
    call = calls.start_outbound(current_agent(), body["phone"], sender, body["hubspot"])
    return jsonify({"call": call.to_dict(), "voice": {"params": calls.voice_params(call)}}), 201


@bp.get("/calls/status/<id_or_sid>")
@login_required
def status(id_or_sid):
    """The call as we know it, so a reloaded widget can bring back the calling screen."""
    return jsonify({"call": calls.call_for_agent(current_agent(), id_or_sid).to_dict()})


@bp.get("/calls/<int:call_id>/contact")
@login_required
def contact(call_id):
    """Who the agent's outbound call goes to, by HubSpot's contact search on the number we recorded."""
    return jsonify({"contact": calls.name_contact(current_agent(), call_id)})


@bp.post("/calls/end")
@login_required
def end():
    """Hang up the agent's call through Twilio (the widget also disconnects its Device)."""
    call_id = json_body(call_id=((int, str), None))["call_id"]
    if call_id in (None, ""):
        raise DomainError("missing_field", "The field 'call_id' is required.", field="call_id")
    call = calls.call_for_agent(current_agent(), call_id)
    return jsonify({"call": calls.hang_up(call).to_dict()})


@bp.post("/calls/<int:call_id>/engagement")
@login_required
def engagement(call_id):
    """Store the engagement HubSpot created for the call (CREATE_ENGAGEMENT_SUCCEEDED)."""
    engagement_id = parse_id(json_body(engagementId=(object, ""))["engagementId"], "engagementId")
    call = calls.call_for_agent(current_agent(), call_id)
    return jsonify({"call": calls.set_engagement(call, engagement_id).to_dict()})


@bp.get("/voice/token")
@login_required
def token():
    """A fresh Twilio access token for the agent's browser (also when it is about to expire)."""
    return jsonify(voice_token(current_agent().voice_identity))


@bp.get("/numbers")
@login_required
def numbers():
    """Our WhatsApp senders, for the keypad's "from" picker."""
    return jsonify({"numbers": all_senders()})


@bp.get("/calls/ringing")
@login_required
def ringing():
    """Calls ringing for this agent now, so a widget that reconnected does not lose a ring."""
    return {"calls": [events.incoming_call(call) for call in inbound.ringing_for(current_agent())]}


@bp.get("/calls/missed")
@login_required
def missed_calls():
    """Inbound calls nobody answered that this agent may call back, and how many they have not seen."""
    agent = current_agent()
    calls = list(missed.missed_for(agent).limit(50))
    return {"calls": missed.missed_json(calls), "unseen": missed.unseen_count(agent)}


@bp.post("/calls/missed/seen")
@login_required
def missed_seen():
    """The agent opened the Missed list, up to the newest call it showed: the badge clears."""
    up_to = json_body(up_to=int)["up_to"]
    return {"unseen": missed.mark_seen(current_agent(), up_to)}


@bp.get("/calls/<int:call_id>/voicemail")
@login_required
def voicemail_link(call_id: int):
    """Where the widget's player fetches a missed call's voicemail: our authenticated recording link (the one
    HubSpot gets, valid for 15 minutes), for a call the agent's Missed list shows."""
    call = voicemail.playable_for(current_agent(), call_id)
    url = url_for("hubspot.recording_audio", call_id=external_id(call), token=recordings.audio_token(call))
    return {"url": url, "seconds": call.voicemail_seconds}


@bp.post("/calls/<int:call_id>/accept")
@login_required
def accept(call_id: int):
    """Take the call if nobody has yet (409 already_claimed otherwise)."""
    return {"call": inbound.claim(current_agent(), call_id).to_dict()}


@bp.post("/calls/<int:call_id>/decline")
@login_required
def decline(call_id: int):
    """Stop ringing for this agent; the last decline makes the call missed."""
    return {"call": inbound.decline(current_agent(), call_id).to_dict()}


@bp.post("/presence")
@login_required
def presence():
    """The availability toggle without a socket; stored, so every process routes the same way."""
    body = json_body(available=bool)
    agent = current_agent()
    Agent.update(available=body["available"]).where(Agent.id == agent.id).execute()
    return {"agent": Agent.get_by_id(agent.id).to_dict()}
