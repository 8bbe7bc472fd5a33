"""The Twilio REST client: the real one in live mode, the same client on a simulated cloud in demo."""
from flask import current_app
from twilio.rest import Client


def twilio_client(app=None) -> Client:
    """A twilio Client for our account. In demo mode its HTTP client is the in-process cloud."""
    app = app or current_app._get_current_object()
    http_client = None
    if app.config["WIDGET_MODE"] == "demo" and not app.config.get("TESTING_REAL_TWILIO_HTTP"):
        from widget_app.demo.twilio_cloud import DemoTwilioHttpClient
        http_client = DemoTwilioHttpClient(app)
    return Client(app.config["TWILIO_ACCOUNT_SID"], app.config["TWILIO_AUTH_TOKEN"], http_client=http_client)
