"""The Twilio REST client, built on the HTTP client in ``app.extensions["twilio_http_client"]``.

That HTTP client is the transport seam: live mode uses twilio-python's own (with a timeout), demo
mode plugs in the simulated cloud (``demo.init_app``), and tests mock at the HTTP boundary.
"""
from flask import current_app
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

TIMEOUT = 10  # seconds for any REST call to Twilio; a hung request must not hold a worker thread


def twilio_client(app=None) -> Client:
    """A twilio Client for our account."""
    app = app or current_app._get_current_object()
    http_client = app.extensions.get("twilio_http_client") or TwilioHttpClient(timeout=TIMEOUT)
    return Client(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"], http_client=http_client)
