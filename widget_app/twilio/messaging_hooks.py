"""Twilio messaging webhooks: permission replies and delivery status of our requests (CONTRACT §5).

Both are signature-verified and idempotent (a WebhookEvent per MessageSid / per status). Every
inbound message is stored; only a permission answer changes anything. Delivery rules (a ``failed``
request does not count against Meta's limits, ``undelivered`` does) are in ``permission_messages``.
"""
from flask import Blueprint, Response, request

from widget_app.permissions import ledger as permission_store
from widget_app.twilio.signatures import twilio_verified

bp = Blueprint("twilio_messaging", __name__, url_prefix="/twilio/messaging")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@bp.post("")
@twilio_verified
def incoming():
    """A WhatsApp message to our sender: maybe the contact's answer to our call-permission request."""
    permission_store.apply_reply(request.form)
    return Response(EMPTY_TWIML, mimetype="text/xml")  # we never answer with a message


@bp.post("/status")
@twilio_verified
def delivery_status():
    """Twilio's status callback for a permission request we sent (sent, delivered, read, failed…)."""
    permission_store.apply_delivery_status(request.form)
    return "", 204
