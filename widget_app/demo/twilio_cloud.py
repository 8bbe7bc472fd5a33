"""Demo mode's Twilio cloud: answers our real REST calls and calls our real webhooks, signed.

Only Twilio's side is simulated. Handlers for each REST resource register with ``@demo_route``
(see messaging.py and voice.py, imported with the package); webhooks go through ``post_webhook`` with a real
X-Twilio-Signature so they take the exact code path live traffic takes.
"""
import json
import logging
import re
import threading
import uuid
from urllib.parse import urlparse

from twilio.http import HttpClient
from twilio.http.response import Response

from widget_app.twilio.signatures import sign

log = logging.getLogger(__name__)
_ROUTES: list[tuple[str, re.Pattern, callable]] = []
API_VERSION = "2010-04-01"


def demo_route(method: str, pattern: str):
    """Register a handler(app, match, data) -> (status, json) for a Twilio REST path (regex on the path)."""
    def decorator(fn):
        _ROUTES.append((method.upper(), re.compile(pattern), fn))
        return fn
    return decorator


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class DemoTwilioHttpClient(HttpClient):
    """twilio-python's HTTP client, answered in-process instead of by api.twilio.com."""

    def __init__(self, app):
        super().__init__(logger=log, is_async=False)  # twilio 9.x: both are required
        self.app = app

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        path = urlparse(url).path
        for route_method, pattern, handler in _ROUTES:
            match = pattern.search(path)
            if route_method == method.upper() and match:
                status, body = handler(self.app, match, dict(data or {}))
                return Response(status, json.dumps(body))
        return Response(404, json.dumps({"code": 20404, "message": f"The requested resource {path} was not found",
                                         "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}))


def post_webhook(app, path: str, params: dict, delay: float = 0.0):
    """Call one of our webhooks as Twilio would: form-encoded, signed, from another thread."""
    def deliver():
        base = (app.config.get("PUBLIC_BASE_URL") or "http://localhost").rstrip("/")
        url = base + path
        signature = sign(url, params, app.config["TWILIO_AUTH_TOKEN"])
        with app.test_client() as client:
            response = client.post(path, data=params, base_url=base,
                                   headers={"X-Twilio-Signature": signature})
            log.info("demo twilio -> %s %s", path, response.status_code)
            return response
    if delay <= 0:
        return deliver()
    timer = threading.Timer(delay, deliver)
    timer.daemon = True
    timer.start()
    return timer
