"""Twilio messaging webhooks: permission replies and delivery status (CONTRACT §5)."""
from flask import Blueprint

bp = Blueprint("twilio_messaging", __name__, url_prefix="/twilio/messaging")
