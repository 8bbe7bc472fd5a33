"""Twilio recording status callbacks (RECORD_CALLS)."""
from flask import Blueprint

bp = Blueprint("twilio_recording", __name__, url_prefix="/twilio/recording")
