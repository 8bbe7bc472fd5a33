"""Fixtures every test package uses: the app on a temp database, its client and CLI runner, agents and
their Bearer headers, HTTP mocks at Twilio's and HubSpot's real URLs, signed webhook requests, and the
call and permission rows several packages arrange. Constants and plain helpers are in tests/helpers.py;
fixtures only one package uses are in that package's conftest.py (browser/ and integration/ too)."""
import contextlib
import json
import os
import shutil
import time
from datetime import UTC

import pytest
import responses as responses_lib

from tests.helpers import (
    CONTACT_PHONE,
    TEST_SETTINGS,
    TWILIO_API,
    OwnRedis,
    free_port,
    hubspot_v3_signature,
    require_or_skip,
    running_in_thread,
)
from widget_app import create_app
from widget_app import db as db_module
from widget_app.calls import inbound
from widget_app.models import Agent
from widget_app.models import db as database_proxy
from widget_app.twilio.signatures import sign


def _reset_postgres(url: str):
    from playhouse.db_url import connect
    database = connect(url)
    with database.connection_context():
        database.execute_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    database.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    """Database tests run on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL too."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/widget.db"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        require_or_skip("PostgreSQL (TEST_DATABASE_URL)")
    _reset_postgres(url)
    return url


@pytest.fixture
def make_app(tmp_path):
    """Build more apps (other modes, other databases); each is upgraded and ready."""
    made = []

    def factory(**overrides):
        settings = {**TEST_SETTINGS, "INSTANCE_PATH": str(tmp_path / "instance"),
                    "DATABASE_URL": f"sqlite:///{tmp_path}/widget.db", **overrides}
        app = create_app(settings)
        db_module.upgrade()
        made.append(app)
        return app

    yield factory
    for app in made:
        inbound.wait_for_look_ups(app)  # an inbound call's contact look-up runs off the request path: let it end here
        app.extensions["realtime"].close()  # its Redis listener must not outlive the test's database
    if not database_proxy.is_closed():
        database_proxy.close()


@pytest.fixture
def app(make_app):
    """The app in live mode on a temp SQLite database; every outside call is mocked at HTTP level."""
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db(app):
    """An open connection to the app's database for arranging and asserting rows."""
    database_proxy.connect(reuse_if_open=True)
    yield database_proxy
    if not database_proxy.is_closed():
        database_proxy.close()


@pytest.fixture
def http_mock():
    """`responses` on: Twilio and HubSpot are reachable only as the mocks a test registers."""
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def redis_url():
    """A real Redis for the fan-out tests (TEST_REDIS_URL; required under CI=true)."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        require_or_skip("Redis (TEST_REDIS_URL)")
    return url


@pytest.fixture
def make_agent(db):
    """Create an agent with a password (the CLI does the same through the same helper)."""
    from werkzeug.security import generate_password_hash

    def factory(email="ana@example.com", name="Ana Agent", password="correct horse", **fields):
        return Agent.create(email=email, name=name, password_hash=generate_password_hash(password), **fields)
    return factory


@pytest.fixture
def agent(make_agent):
    return make_agent()


@pytest.fixture
def headers_for(app):
    """Factory: Bearer headers for an agent, as the widget sends them, issued when called (so on a frozen
    clock too: a token from the real now is "from the future"); ``headers_for(agent, other_app)`` signs
    with another app built by make_app."""
    from widget_app.agents.accounts import issue_token

    def headers(agent, on_app=None):
        with (on_app or app).test_request_context():
            return {"Authorization": f"Bearer {issue_token(agent)}"}
    return headers


@pytest.fixture
def auth_headers(headers_for, agent):
    """Bearer headers for `agent`, issued when the test starts."""
    return headers_for(agent)


# ---------------------------------------------------------------------------------------------
# Requests signed as Twilio and HubSpot sign them

@pytest.fixture
def twilio_post(client, app):
    """POST a form to one of our Twilio webhooks, signed as Twilio signs it (or not)."""
    def post(path, params, signed=True, signature=None):
        url = app.config["PUBLIC_BASE_URL"] + path
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = signature or sign(url, params, app.config["TWILIO_AUTH_TOKEN"])
        return client.post(path, data=params, headers=headers, base_url=app.config["PUBLIC_BASE_URL"])
    return post


@pytest.fixture
def hubspot_request(client, app):
    """Send a request as HubSpot does, with X-HubSpot-Signature-v3 over method, URI, body, timestamp."""
    def send(method, path, body=None, timestamp_ms=None, secret=None, signed=True):
        raw = "" if body is None else (body if isinstance(body, str) else json.dumps(body))
        ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
        headers = {"Content-Type": "application/json"} if raw else {}
        if signed:
            uri = app.config["PUBLIC_BASE_URL"] + path
            headers["X-HubSpot-Signature-v3"] = hubspot_v3_signature(
                secret or app.config["HUBSPOT_CLIENT_SECRET"], method, uri, raw, ts)
            headers["X-HubSpot-Request-Timestamp"] = ts
        return client.open(path, method=method, data=raw or None, headers=headers,
                           base_url=app.config["PUBLIC_BASE_URL"])
    return send


# ---------------------------------------------------------------------------------------------
# Real-time: sockets in the hub

class RecordingSocket:
    """Stands in for a browser's WebSocket inside the hub: keeps every message sent to it."""

    def __init__(self):
        self.messages = []

    def send(self, text):
        self.messages.append(json.loads(text))


@pytest.fixture
def socket_inbox(app):
    """Connect an agent to the app's real-time hub; returns the list their messages land in."""
    def connect(agent):
        recorder = RecordingSocket()
        app.extensions["realtime"].add(agent.id, recorder)
        return recorder.messages
    return connect


# ---------------------------------------------------------------------------------------------
# Calls (issue 5, issue 7)

@pytest.fixture
def make_call(db, agent):
    """Factory: a call row of `agent`, by default a finished outbound call to the demo contact's number.
    ``make_call(initiated=True)`` is instead an outbound call as /api/calls/initiate leaves it: queued,
    to CONTACT_PHONE, no Twilio leg and no times yet. Any field can be overridden."""
    from datetime import datetime

    from widget_app.models import Call

    def factory(*, initiated=False, **fields):
        values = {"direction": "outbound", "from_number": "+442071838750", "agent": agent}
        if initiated:
            values |= {"status": "queued", "to_number": CONTACT_PHONE}
        else:
            values |= {"status": "completed", "to_number": "+447400123456", "sid": "CA" + "c" * 32,
                       "started_at": datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
                       "answered_at": datetime(2025, 5, 1, 12, 0, 5, tzinfo=UTC),
                       "ended_at": datetime(2025, 5, 1, 12, 1, 40, tzinfo=UTC), "duration_seconds": 95}
        return Call.create(**{**values, **fields})
    return factory


# ---------------------------------------------------------------------------------------------
# Call permissions (issue 4)

@pytest.fixture
def grant_permission(db):
    """Give a contact phone a granted, unexpired call permission (as an accepted request leaves it)."""
    from datetime import timedelta

    from widget_app.core.clock import utcnow
    from widget_app.models import Permission

    def grant(phone=CONTACT_PHONE, hours=72):
        now = utcnow()
        permission, _ = Permission.get_or_create(phone=phone)
        permission.status, permission.granted_at = "granted", now
        permission.expires_at, permission.updated_at = now + timedelta(hours=hours), now
        permission.save()
        return permission
    return grant


@pytest.fixture
def twilio_messages(http_mock):
    """Twilio's Messages API at its real URL (201, a real Message resource); returns every POSTed form."""
    import uuid
    from email.utils import format_datetime
    from urllib.parse import parse_qs

    from widget_app.core.clock import utcnow

    sent = []

    def create(request):
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        form = {key: values[0] for key, values in parse_qs(body).items()}
        sent.append({**form, "_authorization": request.headers.get("Authorization", "")})
        sid, now = "SM" + uuid.uuid4().hex, format_datetime(utcnow())
        uri = f"/2010-04-01/Accounts/{TEST_SETTINGS['TWILIO_ACCOUNT_SID']}/Messages/{sid}"
        message = {"account_sid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "api_version": "2010-04-01", "body": "",
                   "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
                   "error_code": None, "error_message": None, "from": form.get("From"), "messaging_service_sid": None,
                   "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
                   "status": "queued", "subresource_uris": {"media": f"{uri}/Media.json"}, "to": form.get("To"),
                   "uri": f"{uri}.json"}
        return 201, {"Content-Type": "application/json"}, json.dumps(message)

    http_mock.add_callback(responses_lib.POST, f"{TWILIO_API}/Messages.json", callback=create)
    return sent


@pytest.fixture
def messaging_post(twilio_post):
    """A contact's WhatsApp message to our sender, as Twilio's messaging webhook posts it (signed unless told)."""
    import itertools

    numbers = itertools.count(1)

    def post(phone=CONTACT_PHONE, signed=True, signature=None, **fields):
        sid = fields.pop("MessageSid", None) or f"SM{next(numbers):032x}"
        params = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"],
                  "From": f"whatsapp:{phone}", "To": f"whatsapp:{TEST_SETTINGS['TWILIO_WHATSAPP_NUMBER']}",
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "WaId": phone.lstrip("+"),
                  "ProfileName": "Test Contact", "ApiVersion": "2010-04-01", **fields}
        return twilio_post("/twilio/messaging", params, signed=signed, signature=signature)
    return post


@pytest.fixture
def serve_app():
    """Serve an app on 127.0.0.1 in a thread; returns its "host:port"."""
    from werkzeug.serving import make_server

    with contextlib.ExitStack() as servers:
        def serve(app):
            port = free_port()
            servers.enter_context(running_in_thread(make_server("127.0.0.1", port, app, threaded=True)))
            return f"127.0.0.1:{port}"
        yield serve


@pytest.fixture
def hubspot_sleeps(app):
    """The HubSpot client's waits (429, backoff) are recorded here instead of slept."""
    waits = []
    app.extensions["hubspot_sleep"] = waits.append
    return waits


@pytest.fixture
def app_ctx(app, db):
    """An application context around the test, as a request or the worker thread has."""
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def postgres_url():
    """PostgreSQL only (TEST_DATABASE_URL, emptied): for what SQLite has no server for, such as a pool's limit."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        require_or_skip("PostgreSQL (TEST_DATABASE_URL)")
    _reset_postgres(url)
    return url


@pytest.fixture
def own_redis():
    """A redis-server of this test alone, which it may stop (Redis down) and start again."""
    if not shutil.which("redis-server"):
        require_or_skip("redis-server")
    server = OwnRedis()
    server.start()
    yield server
    server.stop()
