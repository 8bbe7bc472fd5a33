"""Twilio recording status callbacks (RECORD_CALLS): keep the recording, update the engagement."""
from flask import Blueprint, jsonify, request

from widget_app.hubspot import recordings
from widget_app.twilio.signatures import twilio_verified

bp = Blueprint("twilio_recording", __name__, url_prefix="/twilio/recording")


@bp.post("/status")
@twilio_verified
def recording_status():
    """A finished recording: store its URL on the call and queue hs_call_recording_url (idempotent)."""
    call, changed = recordings.store_recording(request.form)
    return jsonify(call_id=call.id if call else None, stored=changed)
