"""HubSpot cannot stall an inbound call: the webhook records the call before it asks HubSpot who is
calling, gives the look-up about 2 s in all (one attempt, never the client's retries), and rings as
an unknown caller when HubSpot is slow or down."""
import sqlite3
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import requests
import responses

from tests.calls.helpers import CALLER, SEARCH_URL, new_call_form
from tests.helpers import TEST_SETTINGS, wait_for
from widget_app.calls import inbound
from widget_app.core.clock import utcnow
from widget_app.hubspot import contacts
from widget_app.models import Agent, Call, CallRing
from widget_app.twilio.signatures import sign


def identities(response) -> list[str]:
    """Whom the TwiML rings (a Flask test response or a requests one)."""
    body = response.data if hasattr(response, "data") else response.content
    return sorted(client.findtext("Identity") for client in ET.fromstring(body).iter("Client"))


def online(make_agent, email, **fields):
    return make_agent(email=email, available=True, last_seen_at=utcnow(), **fields)


def test_a_hubspot_timeout_rings_every_online_agent_as_an_unknown_caller(twilio_post, make_agent, http_mock):
    ana, bo = online(make_agent, "ana@example.com", hubspot_owner_id="789"), online(make_agent, "bo@example.com")
    http_mock.post(SEARCH_URL, body=requests.exceptions.ReadTimeout("HubSpot did not answer"))
    form = new_call_form()
    response = twilio_post("/twilio/voice", form)
    assert response.status_code == 200
    assert identities(response) == sorted([ana.voice_identity, bo.voice_identity])
    assert len(http_mock.calls) == 1  # no retry after a timeout: the budget is spent
    call = Call.get(Call.sid == form["CallSid"])
    assert call.status == "ringing" and call.contact_id is None


def test_the_look_up_is_one_attempt_bounded_by_the_budget(app, twilio_post, make_agent, http_mock, hubspot_sleeps):
    online(make_agent, "ana@example.com")
    http_mock.post(SEARCH_URL, status=503, json={"status": "error", "message": "Service unavailable"})
    twilio_post("/twilio/voice", new_call_form())
    assert inbound.wait_for_look_ups(app)
    [search] = http_mock.calls  # the client's own retries (and their waits) do not fit the budget
    connect, read = search.request.req_kwargs["timeout"]
    assert connect <= inbound.LOOKUP_BUDGET and read <= inbound.LOOKUP_BUDGET
    assert hubspot_sleeps == []


def test_the_call_is_committed_before_hubspot_is_asked(app, twilio_post, make_agent, http_mock, tmp_path):
    online(make_agent, "ana@example.com")
    form, seen = new_call_form(), []

    def search(request):  # a worker killed here must leave a record of the call: read it from outside
        with sqlite3.connect(app.config["DATABASE_URL"][len("sqlite:///"):]) as outside:
            seen.extend(outside.execute("SELECT status FROM call WHERE sid = ?", (form["CallSid"],)).fetchall())
        return 200, {"Content-Type": "application/json"}, '{"total": 0, "results": []}'

    http_mock.add_callback(responses.POST, SEARCH_URL, callback=search)
    assert twilio_post("/twilio/voice", form).status_code == 200
    assert inbound.wait_for_look_ups(app)  # the look-up runs after the webhook answered
    assert len(seen) == 1


def test_a_cached_caller_is_not_searched_again(twilio_post, make_agent, http_mock):
    online(make_agent, "ana@example.com")
    http_mock.post(SEARCH_URL, json={"total": 0, "results": []})
    twilio_post("/twilio/voice", new_call_form())
    twilio_post("/twilio/voice", new_call_form())
    assert len(http_mock.calls) == 1


def test_twilios_retry_during_the_look_up_rings_each_agent_once(make_app, database_url, serve_app, http_mock):
    app = make_app(DATABASE_URL=database_url)
    with app.app_context():
        now = utcnow()
        agents = [Agent.create(email=f"a{i}@example.com", name=f"A{i}", password_hash="-", available=True,
                               last_seen_at=now) for i in range(3)]
    inboxes = {agent.id: [] for agent in agents}
    for agent in agents:
        app.extensions["realtime"].add(agent.id, type("Inbox", (), {"send": inboxes[agent.id].append})())
    first_asked, retry_answered = threading.Event(), threading.Event()
    asked = []

    def search(request):  # the first delivery's look-up waits until Twilio's retry has been answered
        asked.append(1)
        if len(asked) == 1:
            first_asked.set()
            retry_answered.wait(10)
        return 200, {"Content-Type": "application/json"}, '{"total": 0, "results": []}'

    http_mock.add_callback(responses.POST, SEARCH_URL, callback=search)
    http_mock.add_passthru("http://127.0.0.1")
    address = serve_app(app)
    form = new_call_form()

    def deliver(_):
        url = f"http://{address}/twilio/voice"
        signature = sign(app.config["PUBLIC_BASE_URL"] + "/twilio/voice", form, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
        answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=30)
        return answer

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(deliver, 1)
        assert first_asked.wait(10)
        retry = deliver(2)
        retry_answered.set()
        first = first.result()
    ringing = sorted(agent.voice_identity for agent in agents)
    assert identities(retry) == ringing and identities(first) == ringing
    with app.app_context():
        call = Call.get(Call.sid == form["CallSid"])
        assert CallRing.select().where(CallRing.call == call.id).count() == 3
    assert wait_for(lambda: all(inboxes.values()))
    assert all(len(inbox) == 1 for inbox in inboxes.values()), inboxes


def test_the_budgeted_look_up_leaves_the_sync_workers_search_unbounded(app_ctx, http_mock, hubspot_sleeps):
    http_mock.post(SEARCH_URL, status=503, json={"status": "error", "message": "Service unavailable"})
    http_mock.post(SEARCH_URL, json={"total": 0, "results": []})
    assert contacts.find_contact_by_phone(CALLER, raise_errors=True) is None
    assert len(http_mock.calls) == 2 and len(hubspot_sleeps) == 1
