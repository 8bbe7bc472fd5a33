"""Requests HubSpot sends us: help desk channel connection and authenticated call recordings."""
from flask import Blueprint, Response, jsonify, request, url_for

from widget_app.web.errors import ApiError
from widget_app.web.jsonbody import json_body
from widget_app.calls.senders import all_senders
from widget_app.twilio.signatures import public_base_url
from widget_app.hubspot import recordings
from widget_app.hubspot.signatures import hubspot_verified

bp = Blueprint("hubspot_hooks", __name__, url_prefix="/hubspot")

FRIENDLY_NAME_MAX = 24  # HubSpot cuts longer names; we cut them ourselves so the user sees ours


@bp.post("/channel-connection")
@hubspot_verified(versions=("v3", "v2", "v1"))
def channel_connection():
    """HubSpot's help desk asks which of our WhatsApp numbers a user may connect as a phone channel."""
    json_body(appId=int, portalId=int, userId=int)
    numbers = [{"e164PhoneNumber": sender["e164"], "extension": "",
                "friendlyName": (sender["friendly_name"] or sender["e164"])[:FRIENDLY_NAME_MAX]}
               for sender in all_senders()]
    return jsonify(phoneNumbers=numbers)


# Whether HubSpot signs this GET is undocumented (reference §5.2). We require a signature anyway:
# v3 (timestamped), or v2 as HubSpot signs its other GETs (CRM cards). Not v1: for a GET it signs
# only the empty body, so one leaked header would open every recording.
@bp.get("/recordings/<call_id>")
@hubspot_verified(versions=("v3", "v2"))
def recording_link(call_id):
    """HubSpot asks where to fetch a call's recording: a link of ours, valid for 15 minutes."""
    app_id = request.args.get("appId")
    if app_id is not None and not app_id.isdigit():
        raise ApiError(400, "invalid_field", "appId must be a number.", field="appId")
    call = recordings.call_for_external_id(call_id)
    path = url_for("hubspot_hooks.recording_audio", call_id=call_id, token=recordings.audio_token(call))
    return jsonify(authenticatedUrl=public_base_url() + path)


@bp.get("/recordings/<call_id>/audio")
def recording_audio(call_id):
    """Stream the audio from Twilio with our credentials; Range passes through so players can seek."""
    call = recordings.call_for_audio_token(request.args.get("token", ""), call_id)
    upstream = recordings.open_media(call, request.headers.get("Range"))
    headers = {name: upstream.headers[name] for name in recordings.RELAYED_HEADERS if name in upstream.headers}
    headers.setdefault("Accept-Ranges", "bytes")
    headers["Cache-Control"] = "private, no-store"
    return Response(recordings.relay(upstream), status=upstream.status_code, headers=headers,
                    direct_passthrough=True)
