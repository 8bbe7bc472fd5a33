"""The Twilio REST client, built on the HTTP client in ``app.extensions["twilio_http_client"]``.

That HTTP client is the transport seam: live mode uses twilio-python's own (with a timeout), demo
mode plugs in the simulated cloud (``demo.init_app``), and tests mock at the HTTP boundary.
"""
import re

from flask import current_app
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

_ACCOUNT_PATH = re.compile(r"\S*/Accounts/\S*")
_SID = re.compile(r"\b[A-Z]{2}[0-9a-fA-F]{32}\b")
TIMEOUT = 10  # seconds for any REST call to Twilio; a hung request must not hold a worker thread


def twilio_client(app=None) -> Client:
    """A twilio Client for our account."""
    app = app or current_app._get_current_object()
    http_client = app.extensions.get("twilio_http_client") or TwilioHttpClient(timeout=TIMEOUT)
    return Client(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"], http_client=http_client)


def refusal_text(exc: TwilioRestException) -> str:
    """What an agent may read about a Twilio refusal: its code and Twilio's explanation, without our
    account's resource paths and SIDs (``/Accounts/AC…/Calls/CA….json``), which go to the log only."""
    message = _ACCOUNT_PATH.sub("(our account)", exc.msg or "")
    message = _SID.sub("(id)", message).strip()
    label = f"Twilio error {exc.code}" if exc.code else f"Twilio answered HTTP {exc.status}"
    return f"{label}: {message}" if message else label
