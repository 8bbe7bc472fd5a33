"""Two gunicorn workers and real Redis: an agent's socket held by one worker receives the
`incoming_call` caused by a signed webhook the other worker served."""
import json
import re
import time
import uuid

import pytest
import requests
from simple_websocket import ConnectionClosed

from tests.helpers import TEST_SETTINGS, Client, wait_for
from widget_app.agents.tickets import issue_ticket
from widget_app.models import Agent, Call
from widget_app.twilio.signatures import sign

pytestmark = pytest.mark.integration
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
AGENTS = 6
MAX_WEBHOOKS = 60  # bounded: stop once both workers have served webhooks



@pytest.fixture
def cluster(redis_url, make_app, gunicorn, hubspot_stub, tmp_path):
    """The app on a temp SQLite file, served by gunicorn with two gthread workers and Redis."""
    settings = {key: value for key, value in TEST_SETTINGS.items() if key != "TESTING"}
    settings.update(DATABASE_URL=f"sqlite:///{tmp_path}/fanout.db", REDIS_URL=redis_url,
                    HUBSPOT_API_BASE=hubspot_stub.base_url, SYNC_WORKER="false")
    app = make_app(**settings)  # the test's own view of the same database
    server = gunicorn(settings, workers=2, factory_config={"REALTIME_CHANNEL": f"test:{uuid.uuid4().hex}"})
    return app, server



def open_socket(app, server, agent):
    """Connect, switch the availability toggle on, and wait until the database shows both."""
    with app.test_request_context():
        ticket = issue_ticket(agent)
    ws = Client.connect(f"ws://{server.address}/ws?ticket={ticket}")
    ws.send(json.dumps({"type": "presence", "available": True}))
    assert wait_for(lambda: (lambda a: a.available and a.last_seen_at is not None)(Agent.get_by_id(agent.id)))
    return ws


def send_inbound_webhook(server, seq: int) -> requests.Response:
    """Twilio's signed inbound voice webhook for a WhatsApp call, on a fresh TCP connection."""
    caller = f"+4420794600{seq:02d}"
    params = {"CallSid": "CA" + uuid.uuid4().hex, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"],
              "From": f"whatsapp:{caller}", "To": f"whatsapp:{SENDER}", "Caller": f"whatsapp:{caller}",
              "Called": f"whatsapp:{SENDER}", "CallStatus": "ringing", "Direction": "inbound",
              "ApiVersion": "2010-04-01"}
    url = f"{server.base_url}/twilio/voice"
    signature = sign(url, params, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
    return requests.post(url, data=params, timeout=10, headers={
        "X-Twilio-Signature": signature, "X-Test-Seq": str(seq), "Connection": "close"})


def webhook_pids(server) -> dict[int, int]:
    """Which worker pid served each webhook, from gunicorn's access log."""
    pids = {}
    for line in server.access_lines():
        match = re.match(r'<(\d+)> (\d+) "POST /twilio/voice ', line)
        if match:
            pids[int(match.group(2))] = int(match.group(1))
    return pids


def drain(ws, expected: int, timeout=10.0) -> list[dict]:
    messages, deadline = [], time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        data = ws.receive(timeout=0.2)
        if data is not None:
            messages.append(json.loads(data))
    return messages


def test_incoming_call_crosses_workers_through_redis(cluster):
    app, server = cluster
    agents = [Agent.create(email=f"agent{i}@example.com", name=f"Agent {i}", password_hash="x")
              for i in range(AGENTS)]
    sockets = [open_socket(app, server, agent) for agent in agents]

    sent = 0
    while sent < MAX_WEBHOOKS and (sent < AGENTS or len(set(webhook_pids(server).values())) < 2):
        answer = send_inbound_webhook(server, sent)
        assert answer.status_code == 200 and answer.text.count("<Client") == AGENTS
        sent += 1
    assert wait_for(lambda: len(webhook_pids(server)) == sent)
    served_by = webhook_pids(server)
    assert len(set(served_by.values())) == 2, f"one worker served every webhook: {served_by}"

    call_ids = {call.id for call in Call.select()}
    assert len(call_ids) == sent
    for ws in sockets:
        got = drain(ws, sent)
        assert {m["type"] for m in got} == {"incoming_call"}
        # Every socket (wherever it lives) got the calls of webhooks served by both workers.
        assert {m["call"]["id"] for m in got} == call_ids
        ws.close()


def test_bad_ticket_closes_with_4401_under_gunicorn(cluster):
    _, server = cluster
    ws = Client.connect(f"ws://{server.address}/ws?ticket=forged")
    with pytest.raises(ConnectionClosed) as closed:
        for _ in range(50):
            ws.receive(timeout=0.1)
    assert int(closed.value.reason) == 4401
