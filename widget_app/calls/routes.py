"""HTTP API of calls, our senders and the browser's voice token (CONTRACT §4)."""
from flask import Blueprint, jsonify

from widget_app.calls import outbound as calls
from widget_app.agents.routes import current_agent, login_required
from widget_app.web.errors import ApiError
from widget_app.web.jsonbody import json_body
from widget_app.calls.senders import all_senders, numbers_cli, resolve_sender
from widget_app.twilio.tokens import voice_token

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


@bp.post("/calls/end")
@login_required
def end():
    """Hang up the agent's call through Twilio (the widget also disconnects its Device)."""
    call_id = json_body(call_id=((int, str), None))["call_id"]
    if call_id in (None, ""):
        raise ApiError(400, "missing_field", "The field 'call_id' is required.", field="call_id")
    call = calls.call_for_agent(current_agent(), call_id)
    return jsonify({"call": calls.hang_up(call).to_dict()})


@bp.post("/calls/<int:call_id>/engagement")
@login_required
def engagement(call_id):
    """Store the engagement HubSpot created for the call (CREATE_ENGAGEMENT_SUCCEEDED)."""
    engagement_id = str(json_body(engagementId=((int, str), ""))["engagementId"]).strip()
    if not engagement_id.isdigit():
        raise ApiError(400, "invalid_field", "The field 'engagementId' must be HubSpot's numeric id.",
                       field="engagementId")
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


def init_app(app):
    """`flask numbers add|list`."""
    app.cli.add_command(numbers_cli)
