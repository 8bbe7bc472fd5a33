"""Shared by the race tests: an app served on a loopback port (SQLite or PostgreSQL), Twilio's signed
posts sent to it together, and a database made slow enough for two requests to overlap."""
import threading
import time
import urllib.parse
import urllib.request

import pytest

from tests.helpers import CONTACT_PHONE, PUBLIC_BASE_URL, TEST_SETTINGS
from widget_app.models import Agent, Call, Permission, WebhookEvent, db
from widget_app.twilio.signatures import sign

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
    return post_together_with(lambda form: post_signed(address, path, form), forms, stagger)


def post_together_with(send, items: list, stagger: float = 0.0) -> list:
    """Call ``send(item)`` for every item at the same moment, one thread each; the results in order."""
    results, start = [None] * len(items), threading.Barrier(len(items))

    def run(index, item):
        start.wait()
        time.sleep(index * stagger)
        results[index] = send(item)
    threads = [threading.Thread(target=run, args=(i, item)) for i, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


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


INBOUND_LEG = "CA" + "i" * 32


def leg_sid(agent) -> str:
    """The CallSid of the <Client> leg that rang this agent's browser."""
    return f"CA{agent.id:032d}"


def leg_form(agent, status, seq, parent=INBOUND_LEG, **extra):
    """A status callback of the <Client> leg ringing ``agent`` for an inbound call (Twilio's fields)."""
    client = f"client:{agent.voice_identity}"
    return {"CallSid": leg_sid(agent), "ParentCallSid": parent, "CallStatus": status, "SequenceNumber": str(seq),
            "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{CONTACT_PHONE}", "To": client,
            "Caller": f"whatsapp:{CONTACT_PHONE}", "Called": client, "Direction": "outbound-dial",
            "CallbackSource": "call-progress-events", "ApiVersion": "2010-04-01", **extra}
