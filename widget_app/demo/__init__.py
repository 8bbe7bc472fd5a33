"""Demo mode: Twilio's and HubSpot's clouds simulated in-process, and the /dev/hubspot simulator.

Only ``create_app`` imports this package, and only in demo mode. It plugs into the same transport
seam the tests use: the HTTP client the Twilio REST client is built with, the requests session
of the HubSpot client, and the session our recording link fetches Twilio's media with. Everything from our webhooks inward is the live code path.
"""
from widget_app.demo import faults, inbound, messaging, pages, voice
from widget_app.demo.hubspot_cloud import DemoHubSpotAdapter
from widget_app.demo.recordings import media_session
from widget_app.demo.twilio_cloud import DemoTwilioHttpClient
from widget_app.hubspot.client import session as hubspot_session


def init_app(app):
    """Register the simulator's pages and endpoints and put the simulated clouds behind both clients."""
    for blueprint in (pages.bp, messaging.bp, voice.bp, inbound.bp, faults.bp):
        app.register_blueprint(blueprint)
    if not app.config.get("TESTING_REAL_TWILIO_HTTP"):  # tests that mock Twilio at its real URLs
        app.extensions["twilio_http_client"] = DemoTwilioHttpClient(app)
        app.extensions["twilio_media_session"] = media_session()
    hubspot_session(app).mount(app.config["HUBSPOT_API_BASE"].rstrip("/") + "/", DemoHubSpotAdapter(app))
