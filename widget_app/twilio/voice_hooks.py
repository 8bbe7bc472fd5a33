"""Twilio voice webhooks: outbound and inbound TwiML, status callbacks, dial-done (CONTRACT §5)."""
from flask import Blueprint

bp = Blueprint("twilio_voice", __name__, url_prefix="/twilio/voice")
