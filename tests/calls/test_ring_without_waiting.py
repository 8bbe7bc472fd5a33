"""The ring never waits for HubSpot (issue 16 item 4): the webhook rings at once from what the shared
contact cache knows, and the card follows on the rung agents' sockets when HubSpot answers."""
import json
import threading
import uuid
import xml.etree.ElementTree as ET

import responses

from tests.calls.helpers import CALLER, SEARCH_URL, SENDER, new_call_form
from tests.helpers import TEST_SETTINGS
from widget_app.calls import inbound
from widget_app.core.clock import utcnow
from widget_app.hubspot import contacts
from widget_app.models import Agent, Call
from widget_app.twilio.signatures import sign

OWNER_ID = "789"
DANA = {"id": "501", "properties": {"firstname": "Dana", "lastname": "Demo", "email": "dana@example.com",
                                    "phone": CALLER, "mobilephone": None, "hubspot_owner_id": OWNER_ID,
                                    "hs_object_id": "501"},
        "createdAt": "2026-01-01T10:00:00.000Z", "updatedAt": "2026-01-02T10:00:00.000Z", "archived": False}
CARD = {"id": "501", "name": "Dana Demo", "firstname": "Dana", "lastname": "Demo", "email": "dana@example.com",
        "owner_id": OWNER_ID}


def identities(response) -> list[str]:
    return sorted(client.findtext("Identity") for client in ET.fromstring(response.data).iter("Client"))


class SlowHubSpot:
    """HubSpot's contact search, answering Dana only once the test releases it."""

    def __init__(self, http_mock):
        self.asked, self.release = threading.Event(), threading.Event()
        http_mock.add_callback(responses.POST, SEARCH_URL, callback=self.search)

    def search(self, request):
        self.asked.set()
        self.release.wait(10)
        return 200, {"Content-Type": "application/json"}, json.dumps({"total": 1, "results": [DANA]})


def online(make_agent, email, **fields):
    return make_agent(email=email, available=True, last_seen_at=utcnow(), **fields)


def types(inbox) -> list[str]:
    return [message["type"] for message in inbox if message["type"] != "missed_call"]


def test_a_slow_hubspot_does_not_hold_the_ring_and_the_card_follows_to_the_rung_agents_only(
        app, twilio_post, make_agent, socket_inbox, http_mock):
    ana, bo = online(make_agent, "ana@example.com"), online(make_agent, "bo@example.com")
    away = make_agent(email="away@example.com", available=False, last_seen_at=utcnow())
    inboxes = {agent.id: socket_inbox(agent) for agent in (ana, bo, away)}
    hubspot = SlowHubSpot(http_mock)

    answer = twilio_post("/twilio/voice", new_call_form())  # HubSpot has not answered yet

    assert answer.status_code == 200 and identities(answer) == sorted([ana.voice_identity, bo.voice_identity])
    assert hubspot.asked.wait(5) and not hubspot.release.is_set()
    assert types(inboxes[ana.id]) == types(inboxes[bo.id]) == ["incoming_call"]
    assert inboxes[ana.id][0]["contact"] is None
    call = Call.get()
    assert call.status == "ringing" and call.contact_card is None

    hubspot.release.set()
    assert inbound.wait_for_look_ups(app)
    for agent in (ana, bo):
        assert inboxes[agent.id][-1] == {"type": "call_contact", "call_id": call.id, "contact": CARD}
    assert types(inboxes[away.id]) == []  # never rung, never told who calls
    stored = Call.get_by_id(call.id)
    assert (stored.contact_card, stored.contact_id, stored.owner_id) == (CARD, "501", OWNER_ID)


def test_an_uncached_owner_rings_everyone_and_the_next_call_rings_the_owner_from_the_cache(
        app, twilio_post, make_agent, socket_inbox, http_mock):
    owner = online(make_agent, "owner@example.com", hubspot_owner_id=OWNER_ID)
    other = online(make_agent, "other@example.com", hubspot_owner_id="111")
    inboxes = {agent.id: socket_inbox(agent) for agent in (owner, other)}
    http_mock.post(SEARCH_URL, json={"total": 1, "results": [DANA]})

    first = twilio_post("/twilio/voice", new_call_form())
    assert identities(first) == sorted([owner.voice_identity, other.voice_identity])  # owner not known yet
    assert inbound.wait_for_look_ups(app)
    with app.app_context():
        inbound.mark_missed(Call.get())
    for inbox in inboxes.values():
        inbox.clear()

    second = twilio_post("/twilio/voice", new_call_form())

    assert identities(second) == [owner.voice_identity]
    assert len(http_mock.calls) == 1  # the second ring asked nobody: the cache knew
    assert types(inboxes[owner.id]) == ["incoming_call"] and inboxes[owner.id][0]["contact"] == CARD
    assert types(inboxes[other.id]) == []
    assert not app.extensions.get("contact_look_ups")


def test_a_card_arriving_after_the_call_ended_changes_nothing(make_app, database_url, make_agent, http_mock):
    app = make_app(DATABASE_URL=database_url)
    client = app.test_client()
    with app.app_context():
        agent = Agent.create(email="ana@example.com", name="Ana", password_hash="-", available=True,
                             last_seen_at=utcnow())
    inbox = []
    app.extensions["realtime"].add(agent.id, type("Inbox", (), {"send": lambda self, text: inbox.append(text)})())
    hubspot = SlowHubSpot(http_mock)
    form = new_call_form()

    def post(path, params):
        signature = sign(app.config["PUBLIC_BASE_URL"] + path, params, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
        return client.post(path, data=params, headers={"X-Twilio-Signature": signature})

    assert post("/twilio/voice", form).status_code == 200
    assert hubspot.asked.wait(5)
    done = post("/twilio/voice/dial-done", {**form, "DialCallStatus": "no-answer", "CallStatus": "in-progress"})
    assert done.status_code == 200

    hubspot.release.set()
    assert inbound.wait_for_look_ups(app)
    with app.app_context():
        call = Call.get(Call.sid == form["CallSid"])
        assert call.status == "no-answer" and call.contact_card is None and call.owner_id is None
    assert not any('"call_contact"' in text for text in inbox)


def test_a_late_card_never_replaces_one_already_stored(app_ctx, make_agent, http_mock):
    call = Call.create(direction="inbound", status="ringing", sid="CA" + "f" * 32, from_number=CALLER,
                       to_number=SENDER, started_at=utcnow(), created_at=utcnow(), updated_at=utcnow(),
                       contact_card=CARD, contact_id="501", owner_id=OWNER_ID)
    assert inbound.attach_contact(call.id, {**CARD, "id": "999", "owner_id": "1"}) is False
    assert Call.get_by_id(call.id).contact_id == "501"


def test_the_cache_is_shared_through_redis_between_processes(make_app, redis_url, http_mock):
    channel = f"test:{uuid.uuid4().hex}"
    asker, ringer = (make_app(REDIS_URL=redis_url, REALTIME_CHANNEL=channel) for _ in range(2))
    http_mock.post(SEARCH_URL, json={"total": 1, "results": [DANA]})
    with asker.app_context():
        assert contacts.find_contact_by_phone(CALLER)["id"] == "501"
    with ringer.app_context():
        known, card = contacts.cached_contact(CALLER)
    assert known and card == CARD and len(http_mock.calls) == 1


def test_a_redis_outage_falls_back_to_this_processs_cache(make_app, http_mock):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", REALTIME_CHANNEL=f"test:{uuid.uuid4().hex}")
    http_mock.post(SEARCH_URL, json={"total": 1, "results": [DANA]})
    with app.app_context():
        contacts.find_contact_by_phone(CALLER)
        assert contacts.cached_contact(CALLER) == (True, CARD)
    assert len(http_mock.calls) == 1


def test_nobody_to_ring_still_names_the_missed_calls_owner(app, twilio_post, make_agent, http_mock):
    make_agent(email="owner@example.com", hubspot_owner_id=OWNER_ID, available=False)
    http_mock.post(SEARCH_URL, json={"total": 1, "results": [DANA]})
    answer = twilio_post("/twilio/voice", new_call_form())
    assert b"<Say>" in answer.data
    call = Call.get()
    assert call.status == "no-answer" and call.owner_id == OWNER_ID and call.contact_card == CARD
    [search] = http_mock.calls
    assert max(search.request.req_kwargs["timeout"]) <= inbound.NOBODY_LOOKUP_BUDGET
