"""Fault injection on a real deployment: gunicorn (2 gthread workers) + PostgreSQL + a Redis of our own.
Redis stopped mid-ring: every available agent's widget still shows the ring within 10 s. HubSpot
hanging: the inbound webhook still answers TwiML within 3 s (ringing as an unknown caller)."""
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from simple_websocket import ConnectionClosed

from tests.helpers import TEST_SETTINGS, Client, running_in_thread, wait_for
from widget_app.agents.accounts import issue_token
from widget_app.models import Agent, Call

pytestmark = pytest.mark.integration
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
AGENTS = 8


@pytest.fixture
def hanging_hubspot():
    """HubSpot that accepts every request and never answers (until the test ends)."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            release.wait(60)

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with running_in_thread(server):
        server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        yield server
        release.set()



@pytest.fixture
def deploy(postgres_url, own_redis, make_app, gunicorn):
    """The app on PostgreSQL under gunicorn with two workers and our own Redis, on a HubSpot of the test's."""
    def start(hubspot_base: str):
        settings = {key: value for key, value in TEST_SETTINGS.items() if key != "TESTING"}
        settings.update(DATABASE_URL=postgres_url, REDIS_URL=own_redis.url, HUBSPOT_API_BASE=hubspot_base,
                        SYNC_WORKER="false")
        app = make_app(**settings)
        server = gunicorn(settings, workers=2, factory_config={"REALTIME_CHANNEL": f"test:{uuid.uuid4().hex}"})
        return app, server
    return start


class Widget:
    """What the widget does with its socket: read messages; when the server closes it, reconnect and
    ask GET /api/calls/ringing (rings are not replayed). ``rings`` are the call ids it has shown."""

    def __init__(self, app, server, agent):
        with app.test_request_context():
            self.token = issue_token(agent)
        self.server, self.rings, self.stop = server, set(), threading.Event()
        self.ws = self.connect()
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def connect(self):
        ticket = requests.post(f"{self.server.base_url}/api/realtime/ticket", timeout=5,  # as the widget does
                               headers={"Authorization": f"Bearer {self.token}"}).json()["ticket"]
        ws = Client.connect(f"ws://{self.server.address}/ws?ticket={ticket}")
        ws.send(json.dumps({"type": "presence", "available": True}))
        return ws

    def catch_up(self):
        answer = requests.get(f"{self.server.base_url}/api/calls/ringing", timeout=5,
                              headers={"Authorization": f"Bearer {self.token}"})
        self.rings.update(item["call"]["id"] for item in answer.json()["calls"])

    def read(self):
        while not self.stop.is_set():
            try:
                data = self.ws.receive(timeout=0.2)
            except ConnectionClosed:
                self.reconnect()
                continue
            if data is not None and json.loads(data).get("type") == "incoming_call":
                self.rings.add(json.loads(data)["call"]["id"])

    def reconnect(self):
        """The widget's backoff, then a fresh socket and what rings now; the server may be gone at the end."""
        time.sleep(0.5)
        try:
            self.ws = self.connect()
            self.catch_up()
        except (OSError, ConnectionClosed, requests.RequestException, ValueError):
            pass

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        self.ws.close()


def inbound_webhook(server, caller="+447946000123") -> requests.Response:
    """Twilio's signed inbound voice webhook; Twilio itself gives up after 15 s, we demand 3 s."""
    from widget_app.twilio.signatures import sign
    params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"],
              "From": f"whatsapp:{caller}", "To": f"whatsapp:{SENDER}", "Caller": f"whatsapp:{caller}",
              "Called": f"whatsapp:{SENDER}", "CallStatus": "ringing", "Direction": "inbound",
              "ApiVersion": "2010-04-01"}
    url = f"{server.base_url}/twilio/voice"
    return requests.post(url, data=params, timeout=3, headers={
        "X-Twilio-Signature": sign(url, params, TEST_SETTINGS["TWILIO_AUTH_TOKEN"]), "Connection": "close"})


@pytest.fixture
def widgets():
    """Every widget a test opens is closed at its end."""
    opened = []
    yield opened
    for widget in opened:
        widget.close()


def online_widgets(app, server, opened) -> list[Widget]:
    agents = [Agent.create(email=f"agent{i}@example.com", name=f"Agent {i}", password_hash="x") for i in range(AGENTS)]
    opened.extend(Widget(app, server, agent) for agent in agents)
    assert wait_for(lambda: Agent.select().where(Agent.available == True, Agent.last_seen_at.is_null(False))
                    .count() == AGENTS)
    return opened


def test_hubspot_hanging_the_inbound_webhook_answers_twiml_within_3_seconds(deploy, hanging_hubspot, widgets):
    app, server = deploy(hanging_hubspot.base_url)
    online_widgets(app, server, widgets)
    answer = inbound_webhook(server)  # requests' timeout=3 fails the test beyond 3 s
    assert answer.status_code == 200 and answer.text.count("<Client") == AGENTS
    assert Call.select().where(Call.contact_id.is_null()).count() == 1


def test_redis_stopped_mid_ring_every_available_widget_shows_the_ring_within_10_seconds(
        deploy, own_redis, hubspot_stub, widgets):
    app, server = deploy(hubspot_stub.base_url)  # HubSpot answers: only Redis fails here
    online_widgets(app, server, widgets)
    first = inbound_webhook(server, caller="+447946000100")
    assert first.status_code == 200
    own_redis.stop()
    answer = inbound_webhook(server, caller="+447946000101")
    assert answer.status_code == 200 and answer.text.count("<Client") == AGENTS
    call_id = Call.select().order_by(Call.id.desc()).first().id
    assert wait_for(lambda: all(call_id in widget.rings for widget in widgets), timeout=10), \
        [sorted(widget.rings) for widget in widgets]
