"""HTTP API of the permission rules (CONTRACT §4): status, request, invite, validate. Shared by the team."""
from flask import Blueprint, jsonify

from widget_app.core.phone import to_e164
from widget_app.permissions import ledger, messages
from widget_app.web.auth import current_agent, login_required
from widget_app.web.jsonbody import json_body

bp = Blueprint("permissions_api", __name__, url_prefix="/api/permissions")


@bp.get("/status/<phone>")
@login_required
def status(phone):
    """Where the contact stands, so the widget can pick the request, pending, denied or dial screen."""
    return jsonify({"permission": ledger.permission_json(to_e164(phone))})


@bp.get("/pending")
@login_required
def pending():
    """The contacts the signed-in agent asked and who have not answered yet (the keypad's waiting list)."""
    return jsonify({"permissions": ledger.pending_for(current_agent().id)})


@bp.post("/request")
@login_required
def request_permission():
    """Send the contact a permission request, only when Meta's limits allow (else 429 with retry_at)."""
    phone = to_e164(json_body(phone=str)["phone"])
    return jsonify({"permission": messages.send_request(phone, current_agent())}), 202


@bp.post("/invite")
@login_required
def invite():
    """Send the contact a "Call us" message (TWILIO_CALL_INVITE_CONTENT_SID), within the same limits as requests."""
    phone = to_e164(json_body(phone=str)["phone"])
    return jsonify({"permission": messages.send_invite(phone, current_agent())}), 202


@bp.post("/validate")
@login_required
def validate():
    """Could a call go out right now, and why (the same verdict /api/calls/initiate enforces)?"""
    phone = to_e164(json_body(phone=str)["phone"])
    verdict = ledger.call_verdict(phone)
    return jsonify({"can_call": verdict.can_call, "reason": verdict.reason, "code": verdict.code,
                    "permission": ledger.permission_json(phone)})
