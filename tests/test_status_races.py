"""Status callbacks that race: a call's status never moves backwards and a final status is never
replaced, on SQLite and on PostgreSQL, with real concurrent requests against a served app."""
import threading
import time
import urllib.parse
import urllib.request

import pytest

from widget_app.models import Agent, Call, Permission, WebhookEvent, db
from widget_app.twilio.signatures import sign

from .conftest import CONTACT_PHONE, PUBLIC_BASE_URL, TEST_SETTINGS

BROWSER_LEG = "CA" + "b" * 32
WHATSAPP_LEG = "CA" + "w" * 32
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
SLOW_DATABASE_SECONDS = 0.6  # widens the window between reading the call and writing it
STAGGER_SECONDS = 0.2  # the second callback arrives this much later, still inside the first one's window


def status_form(status, seq, sid=WHATSAPP_LEG, parent=BROWSER_LEG, **extra):
    """A status callback of the WhatsApp leg of an outbound call."""
    return {"CallSid": sid, "ParentCallSid": parent, "CallStatus": status, "SequenceNumber": str(seq),
            "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{SENDER}", "To": CONTACT_PHONE,
            "Direction": "outbound-dial", "CallbackSource": "call-progress-events", "ApiVersion": "2010-04-01",
            **extra}


def post_signed(address: str, path: str, form: dict) -> int:
    """POST as Twilio does: to our internal address, signed over PUBLIC_BASE_URL + path."""
    signature = sign(PUBLIC_BASE_URL + path, form, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
    request = urllib.request.Request(f"http://{address}{path}", data=urllib.parse.urlencode(form).encode(),
                                     headers={"X-Twilio-Signature": signature}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def post_together(address: str, path: str, forms: list[dict], stagger: float = 0.0) -> list[int]:
    """Send the forms together, one thread each (form i ``i * stagger`` s later); the answers' statuses."""
    statuses, start = [None] * len(forms), threading.Barrier(len(forms))

    def send(index, form):
        start.wait()
        time.sleep(index * stagger)
        statuses[index] = post_signed(address, path, form)
    threads = [threading.Thread(target=send, args=(i, form)) for i, form in enumerate(forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.fixture
def slow_database(monkeypatch):
    """Each callback's idempotency insert takes a while, as on a loaded database server."""
    real = WebhookEvent.record_once.__func__

    def slow(cls, *args, **kwargs):
        time.sleep(SLOW_DATABASE_SECONDS)
        return real(cls, *args, **kwargs)
    monkeypatch.setattr(WebhookEvent, "record_once", classmethod(slow))


@pytest.fixture
def served(make_app, database_url, serve_app):
    """The app on SQLite or PostgreSQL, served on a loopback port, with an agent and a granted contact."""
    app = make_app(DATABASE_URL=database_url)
    with app.app_context(), db.connection_context():
        agent = Agent.create(email="race@example.com", name="Race", password_hash="x")
        Permission.create(phone=CONTACT_PHONE, status="granted", permanent=True)
    return app, serve_app(app), agent


def placed_call(agent, parent=BROWSER_LEG, **fields) -> Call:
    """An outbound call whose browser leg Twilio already reported (as /twilio/voice leaves it)."""
    with db.connection_context():
        return Call.create(direction="outbound", status="queued", from_number=SENDER, to_number=CONTACT_PHONE,
                           agent=agent, parent_sid=parent, **fields)


def stored(call: Call) -> Call:
    with db.connection_context():
        return Call.get_by_id(call.id)


def test_answered_and_completed_arriving_together_end_completed(served, slow_database):
    app, address, agent = served
    call = placed_call(agent)
    assert post_signed(address, "/twilio/voice/status", status_form("ringing", 1)) == 204
    # Twilio's "completed" overtakes "in-progress"; both reach us while the first is still being written
    answers = post_together(address, "/twilio/voice/status",
                            [status_form("completed", 3, CallDuration="30"), status_form("in-progress", 2)],
                            stagger=STAGGER_SECONDS)
    assert answers == [204, 204]
    done = stored(call)
    assert (done.status, done.duration_seconds) == ("completed", 30)
    assert done.answered_at is not None and done.ended_at is not None


def test_two_different_final_statuses_together_keep_the_first_whole(served, slow_database):
    app, address, agent = served
    call = placed_call(agent)
    post_signed(address, "/twilio/voice/status", status_form("in-progress", 2))
    post_together(address, "/twilio/voice/status",
                  [status_form("completed", 3, CallDuration="30"), status_form("canceled", 4, CallDuration="0")],
                  stagger=STAGGER_SECONDS)
    done = stored(call)
    assert (done.status, done.duration_seconds) == ("completed", 30)
    assert done.answered_at is not None


def test_two_concurrent_duplicate_final_callbacks_count_one_miss(served, slow_database):
    app, address, agent = served
    placed_call(agent)
    post_together(address, "/twilio/voice/status", [status_form("no-answer", 2, CallDuration="0")] * 2)
    with db.connection_context():
        assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 1


def test_a_second_final_status_never_replaces_the_first(served):
    app, address, agent = served
    call = placed_call(agent)
    post_signed(address, "/twilio/voice/status", status_form("in-progress", 2))
    post_signed(address, "/twilio/voice/status", status_form("completed", 3, CallDuration="30"))
    post_signed(address, "/twilio/voice/status", status_form("canceled", 4, CallDuration="0"))
    post_signed(address, "/twilio/voice/status", status_form("failed", 5, ErrorCode="31005"))
    done = stored(call)
    assert (done.status, done.duration_seconds, done.error_code) == ("completed", 30, None)
