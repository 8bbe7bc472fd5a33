"""Fixtures: the app on a temp database, its client and CLI runner, HTTP mocks at Twilio's and
HubSpot's real URLs, signed webhook helpers, and a real Chromium for the browser tests."""
import base64
import contextlib
import hashlib
import hmac
import json
import os
import shutil
import socket
import threading
import time
from datetime import UTC

import pytest
import responses as responses_lib

from widget_app import create_app
from widget_app import db as db_module
from widget_app.models import Agent
from widget_app.models import db as database_proxy
from widget_app.twilio.signatures import sign

IN_CI = os.environ.get("CI") == "true"
PUBLIC_BASE_URL = "https://widget.example.com"
TEST_SETTINGS = {
    "TESTING": True,
    "WIDGET_MODE": "live",
    "SECRET_KEY": "test-secret-key",
    "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    "FRAME_ANCESTORS": "https://*.hubspot.com",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "test-twilio-auth-token",
    "TWILIO_API_KEY_SID": "SK" + "1" * 32,
    "TWILIO_API_KEY_SECRET": "test-api-key-secret-000000000000",  # 32 bytes: PyJWT warns below that
    "TWILIO_TWIML_APP_SID": "AP" + "1" * 32,
    "TWILIO_WHATSAPP_NUMBER": "+442071838750",
    "TWILIO_PERMISSION_CONTENT_SID": "HX" + "1" * 32,
    "HUBSPOT_ACCESS_TOKEN": "test-hubspot-token",
    "HUBSPOT_CLIENT_ID": "test-client-id",
    "HUBSPOT_CLIENT_SECRET": "test-client-secret",
    "HUBSPOT_APP_ID": "123456",
    "HUBSPOT_DEVELOPER_API_KEY": "test-dev-key",
    "SYNC_WORKER": False,
}
TWILIO_API = f"https://api.twilio.com/2010-04-01/Accounts/{TEST_SETTINGS['TWILIO_ACCOUNT_SID']}"
HUBSPOT_API = "https://api.hubapi.com"


def require_or_skip(what: str):
    """Outside CI a missing browser or server skips; under CI=true it fails the run."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not available")


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
def auth_headers(app, agent):
    """Bearer headers for `agent`, as the widget sends them."""
    from widget_app.agents.accounts import issue_token
    with app.test_request_context():
        return {"Authorization": f"Bearer {issue_token(agent)}"}


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


def hubspot_v3_signature(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), f"{method}{uri}{body}{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


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
# Browser tests: the demo app served on a real port, HubSpot's simulator on one origin
# (http://127.0.0.1:PORT) and the widget on another (http://localhost:PORT), driven in Chromium.

@contextlib.contextmanager
def running_in_thread(server):
    """Serve ``server`` from a daemon thread for the block, then stop it, close it and join the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def wait_for(predicate, timeout=10.0):
    """Poll until ``predicate()`` is truthy and return its value; on timeout return the last (falsy) one."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def wait_for_row(read, timeout=10.0):
    """`wait_for` over rows a live server's threads write, reading through a fresh connection each time."""
    def fresh():
        with database_proxy.connection_context():
            return read()
    return wait_for(fresh, timeout)


@pytest.fixture
def redis_url():
    """A real Redis for the fan-out tests (TEST_REDIS_URL; required under CI=true)."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        require_or_skip("Redis (TEST_REDIS_URL)")
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    def __init__(self, app, port):
        self.app, self.port = app, port
        self.host_origin = f"http://127.0.0.1:{port}"
        self.widget_origin = f"http://localhost:{port}"

    def simulator_url(self, **query) -> str:
        from urllib.parse import urlencode
        return f"{self.host_origin}/dev/hubspot" + (f"?{urlencode(query)}" if query else "")


@pytest.fixture
def live_server(tmp_path):
    """The demo-mode app (SQLite, simulated clouds) on a real port, in a thread."""
    from werkzeug.serving import make_server

    port = _free_port()
    settings = {"WIDGET_MODE": "demo", "TESTING": True, "SECRET_KEY": "browser-test-secret",
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "DATABASE_URL": f"sqlite:///{tmp_path}/browser.db",
                "PUBLIC_BASE_URL": f"http://localhost:{port}", "SYNC_WORKER": False}
    app = create_app(settings)
    db_module.upgrade()
    from widget_app.agents.accounts import ensure_demo_agent
    with database_proxy.connection_context():
        ensure_demo_agent()  # demo@example.com / demo, as `python -m widget_app` creates it
    with running_in_thread(make_server("127.0.0.1", port, app, threaded=True)):
        yield LiveServer(app, port)
        _finish_demo_timers()


def _finish_demo_timers(timeout=15.0):
    """Let the simulated clouds' pending steps (threading.Timer, some chaining the next) finish on this
    test's database, before the next test's app rebinds the shared database proxy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]
        if not timers:
            return
        for timer in timers:
            timer.join(timeout=max(0.0, deadline - time.monotonic()))


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not used)."""
    path = chromium_path()
    if not path:
        require_or_skip("Debian's chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("playwright")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  # Block third-party cookies and storage, as Safari always does and Chrome can.
                  "--test-third-party-cookie-phaseout",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    yield page
    context.close()


# ---------------------------------------------------------------------------------------------
# Real-time: sockets in the hub, and an app served on a real port (the test client cannot speak
# WebSocket).

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


@pytest.fixture
def serve_app():
    """Serve an app on 127.0.0.1 in a thread; returns its "host:port"."""
    from werkzeug.serving import make_server

    with contextlib.ExitStack() as servers:
        def serve(app):
            port = _free_port()
            servers.enter_context(running_in_thread(make_server("127.0.0.1", port, app, threaded=True)))
            return f"127.0.0.1:{port}"
        yield serve


# ---------------------------------------------------------------------------------------------
# HubSpot outbox helpers (issue 7)

@pytest.fixture
def hubspot_sleeps(app):
    """The HubSpot client's waits (429, backoff) are recorded here instead of slept."""
    waits = []
    app.extensions["hubspot_sleep"] = waits.append
    return waits


@pytest.fixture
def make_call(db, agent):
    """A finished call row of `agent` (outbound to the demo contact's number unless told otherwise)."""
    from datetime import datetime

    from widget_app.models import Call

    def factory(**fields):
        values = {"direction": "outbound", "status": "completed", "from_number": "+442071838750",
                  "to_number": "+447400123456", "agent": agent, "sid": "CA" + "c" * 32,
                  "started_at": datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
                  "answered_at": datetime(2025, 5, 1, 12, 0, 5, tzinfo=UTC),
                  "ended_at": datetime(2025, 5, 1, 12, 1, 40, tzinfo=UTC), "duration_seconds": 95}
        return Call.create(**{**values, **fields})
    return factory


# ---------------------------------------------------------------------------------------------
# Outbound calls (issue 5)

CONTACT_PHONE = "+447911123456"  # phonenumbers rejects the +447700900xxx drama range


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
def queued_call(db, agent):
    """Factory: an outbound call of `agent` as /api/calls/initiate leaves it (queued, no Twilio leg yet)."""
    from widget_app.models import Call

    def factory(**fields):
        values = {"direction": "outbound", "status": "queued", "from_number": "+442071838750",
                  "to_number": CONTACT_PHONE, "agent": agent}
        return Call.create(**{**values, **fields})
    return factory


@pytest.fixture
def app_ctx(app, db):
    """An application context around the test, as a request or the worker thread has."""
    with app.app_context() as ctx:
        yield ctx


class Gunicorn:
    """A gunicorn started by a test: its address, settings and access log (with worker pids)."""

    def __init__(self, process, port, env, access_log):
        self.process, self.port, self.env, self.access_log = process, port, env, access_log
        self.address = f"127.0.0.1:{port}"
        self.base_url = f"http://{self.address}"

    def access_lines(self) -> list[str]:
        with open(self.access_log) as fh:
            return fh.read().splitlines()


@pytest.fixture
def gunicorn(tmp_path):
    """Start the real app under gunicorn (gthread) on a loopback port; settings come from the environment.

    ``start(settings, workers=2, factory_config=None)``; prepare the database first (``make_app``
    with the same DATABASE_URL upgrades it). The access log
    lines read ``<pid> <X-Test-Seq header> "<request line>" <status>`` (gunicorn writes ``<pid>``).
    """
    import subprocess
    import sys
    import urllib.request

    started = []

    def start(settings: dict, workers: int = 2, threads: int = 20, factory_config: dict | None = None):
        port = _free_port()
        env = {**os.environ, **{k: str(v) for k, v in settings.items()},
               "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        access_log = tmp_path / f"access-{port}.log"
        access_log.touch()
        target = f"widget_app:create_app({factory_config!r})" if factory_config else "wsgi:app"
        errors = open(tmp_path / f"gunicorn-{port}.err", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", target, "--worker-class", "gthread", "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5", "--no-control-socket",
             "--access-logfile", str(access_log),
             "--access-logformat", '%(p)s %({x-test-seq}i)s "%(r)s" %(s)s'],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        started.append((process, errors))
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / f"gunicorn-{port}.err").read_text()[-3000:])
                time.sleep(0.1)
        return Gunicorn(process, port, env, str(access_log))

    yield start
    for process, errors in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        errors.close()


@pytest.fixture
def hubspot_stub():
    """HubSpot's contacts search on a loopback port (for servers in other processes, where
    `responses` cannot reach): ``contacts`` maps an E.164 number to (contact id, owner id)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    contacts = {}

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every search

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            values = {f.get("value") for g in body.get("filterGroups", []) for f in g.get("filters", [])}
            found = [{"id": cid, "archived": False, "createdAt": "2026-01-01T00:00:00.000Z",
                      "updatedAt": "2026-01-01T00:00:00.000Z",
                      "properties": {"firstname": "Caller", "lastname": cid, "phone": phone, "hubspot_owner_id": owner}}
                     for phone, (cid, owner) in contacts.items() if phone in values]
            data = json.dumps({"total": len(found), "results": found}).encode()
            status = 200 if self.path == "/crm/v3/objects/contacts/search" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    with running_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        server.contacts = contacts
        server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        yield server


# ---------------------------------------------------------------------------------------------
# Call permissions (issue 4)

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
def token_headers(app):
    """Bearer headers issued now (on a frozen clock too: a token from the real now is "from the future")."""
    from widget_app.agents.accounts import issue_token

    def headers(agent):
        with app.test_request_context():
            return {"Authorization": f"Bearer {issue_token(agent)}"}
    return headers
