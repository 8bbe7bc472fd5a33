"""Meta's daily cap of connected business calls holds when agents place calls to one contact at the same
moment: each call is reserved against the cap as it is recorded, on SQLite and PostgreSQL."""
import json
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest

from tests.helpers import CONTACT_PHONE
from tests.races.conftest import SENDER, SLOW_DATABASE_SECONDS, post_signed, post_together_with, stored
from widget_app.agents.accounts import issue_token
from widget_app.core.clock import utcnow
from widget_app.models import Agent, Call, db
from widget_app.permissions import ledger

CAP = 5  # MAX_CONNECTED_CALLS_PER_DAY's default


@pytest.fixture
def slow_history(monkeypatch):
    """Reading a contact's call history takes a while, as on a loaded database server."""
    real = ledger.history

    def slow(*args, **kwargs):
        past = real(*args, **kwargs)
        time.sleep(SLOW_DATABASE_SECONDS / 3)
        return past
    monkeypatch.setattr(ledger, "history", slow)


def connected_calls(agent, count):
    """``count`` business calls to the contact that connected within the last 24 hours."""
    now = utcnow()
    with db.connection_context():
        for n in range(count):
            Call.create(direction="outbound", status="completed", from_number=SENDER, to_number=CONTACT_PHONE,
                        agent=agent, sid=f"CA{n:032d}", started_at=now - timedelta(hours=n + 1),
                        answered_at=now - timedelta(hours=n + 1), ended_at=now - timedelta(hours=n + 1),
                        duration_seconds=30)


def agents_with_tokens(app, count) -> list[tuple[Agent, str]]:
    with db.connection_context():
        agents = [Agent.create(email=f"cap{n}@example.com", name=f"Cap {n}", password_hash="x") for n in range(count)]
    with app.test_request_context():
        return [(agent, issue_token(agent)) for agent in agents]


def initiate(address, token) -> tuple[int, dict]:
    """The widget's POST /api/calls/initiate to the contact."""
    request = urllib.request.Request(f"http://{address}/api/calls/initiate", method="POST",
                                     data=json.dumps({"phone": CONTACT_PHONE}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_ten_parallel_initiations_with_four_connected_calls_reserve_one(served, slow_history):
    app, address, agent = served
    connected_calls(agent, CAP - 1)
    tokens = [token for _, token in agents_with_tokens(app, 10)]
    answers = post_together_with(lambda token: initiate(address, token), tokens)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [429] * 9
    refused = [body for status, body in answers if status == 429]
    assert {body["error"]["code"] for body in refused} == {"call_limit_reached"}
    with db.connection_context():
        assert Call.select().where(Call.status == "queued").count() == 1


def test_the_reserved_call_itself_may_still_dial(served):
    app, address, _ = served
    connected_calls(_, CAP - 1)
    [(agent, token)] = agents_with_tokens(app, 1)
    status, body = initiate(address, token)
    assert status == 201
    form = {"CallSid": "CA" + "b" * 32, "From": f"client:{agent.voice_identity}", "Caller": f"client:{agent.voice_identity}",
            "To": CONTACT_PHONE, "CallId": str(body["call"]["id"]), "Sender": SENDER, "CallStatus": "ringing",
            "Direction": "inbound", "ApiVersion": "2010-04-01"}
    assert post_signed(address, "/twilio/voice", form) == 200
    call = stored(Call(id=body["call"]["id"]))
    assert (call.status, call.parent_sid, call.error_code) == ("queued", form["CallSid"], None)
    assert initiate(address, token)[0] == 429  # the one free place is taken while it dials


def test_a_reservation_ends_with_its_call_or_when_it_never_dialed(served):
    app, address, agent = served
    connected_calls(agent, CAP - 1)
    [(_, token)] = agents_with_tokens(app, 1)
    status, body = initiate(address, token)
    assert status == 201 and initiate(address, token)[0] == 429
    with db.connection_context():
        Call.update(status="failed", ended_at=utcnow()).where(Call.id == body["call"]["id"]).execute()
    status, body = initiate(address, token)
    assert status == 201
    with db.connection_context():  # a browser that never dialed: the reservation lapses
        Call.update(started_at=utcnow() - ledger.RESERVATION - timedelta(seconds=1)).where(
            Call.id == body["call"]["id"]).execute()
    assert initiate(address, token)[0] == 201
