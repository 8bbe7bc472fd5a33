"""Inbound routing: who rings for a WhatsApp call, the TwiML that rings them, missed calls."""
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
import requests
import responses

from tests.calls.helpers import CALLER, OWNER_ID, SEARCH_URL, SENDER, inbound_form, search_answer
from tests.helpers import PUBLIC_BASE_URL, TEST_SETTINGS
from widget_app.calls import inbound
from widget_app.core.clock import utcnow
from widget_app.hubspot import contacts
from widget_app.models import Agent, Call, CallRing, EngagementSync, db
from widget_app.twilio import webhooks
from widget_app.twilio.signatures import sign


@pytest.fixture
def hubspot_knows_caller(http_mock):
    http_mock.add(responses.POST, SEARCH_URL, json=search_answer())
    return http_mock


@pytest.fixture
def hubspot_unknown_caller(http_mock):
    http_mock.add(responses.POST, SEARCH_URL, json={"total": 0, "results": []})
    return http_mock


@pytest.fixture
def ring(app):
    """Run the inbound webhook's routing as /twilio/voice does (signature already checked)."""
    def run(form=None):
        with app.test_request_context("/twilio/voice", method="POST", base_url=PUBLIC_BASE_URL):
            return ET.fromstring(webhooks.inbound_twiml(form or inbound_form()))
    return run


def client_identities(twiml) -> list[str]:
    return [client.findtext("Identity") for client in twiml.iter("Client")]


ONLINE = {"available": True, "seen": 5}
AWAY = {"available": False, "seen": 5}
STALE = {"available": True, "seen": 120}


@pytest.mark.parametrize("owner, others, known, expected", [
    pytest.param(ONLINE, ONLINE, True, ["owner"], id="owner-online-rings-only-owner"),
    pytest.param(AWAY, ONLINE, True, ["other"], id="owner-unavailable-rings-everyone-available"),
    pytest.param(STALE, ONLINE, True, ["other"], id="owner-stale-heartbeat-rings-everyone-available"),
    pytest.param(ONLINE, ONLINE, False, ["owner", "other"], id="unknown-contact-rings-everyone-available"),
    pytest.param(AWAY, AWAY, True, [], id="nobody-available-says-sorry-and-offers-voicemail"),
    pytest.param(STALE, AWAY, False, [], id="nobody-signed-in-says-sorry-and-offers-voicemail"),
])
def test_routing_matrix(app, make_agent, http_mock, socket_inbox, ring, owner, others, known, expected):
    """``known``: HubSpot has the caller and the shared contact cache already holds the answer (the
    ring never waits for HubSpot, so routing by owner works from the cache: test_ring_without_waiting.py)."""
    http_mock.add(responses.POST, SEARCH_URL,
                  json=search_answer() if known else {"total": 0, "results": []})
    with app.app_context():
        contacts.find_contact_by_phone(CALLER)
    http_mock.calls.reset()
    now = utcnow()
    agents = {
        "owner": make_agent(email="owner@example.com", hubspot_owner_id=OWNER_ID, available=owner["available"],
                            last_seen_at=now - timedelta(seconds=owner["seen"])),
        "other": make_agent(email="other@example.com", hubspot_owner_id="111", available=others["available"],
                            last_seen_at=now - timedelta(seconds=others["seen"])),
    }
    inboxes = {name: socket_inbox(agent) for name, agent in agents.items()}

    twiml = ring()

    assert inbound.wait_for_look_ups(app) and len(http_mock.calls) == 0  # rung from the cache alone
    call = Call.get(Call.sid == inbound_form()["CallSid"])
    assert (call.direction, call.from_number, call.to_number) == ("inbound", CALLER, SENDER)
    assert call.contact_id == ("501" if known else None)
    assert sorted(r.agent_id for r in call.rings) == sorted(agents[name].id for name in expected)
    for name, inbox in inboxes.items():
        rings = [m["type"] for m in inbox if m["type"] != "missed_call"]  # the Missed badge: test_missed_calls.py
        assert rings == (["incoming_call"] if name in expected else [])
    if expected:
        assert EngagementSync.select().count() == 0  # the ringing widget's SDK logs this call
        assert call.status == "ringing" and call.ended_at is None
        assert sorted(client_identities(twiml)) == sorted(agents[name].voice_identity for name in expected)
        message = inboxes[expected[0]][0]
        assert message["call"]["id"] == call.id and message["call"]["status"] == "ringing"
        assert message["contact"] == ({"id": "501", "name": "Dana Demo", "firstname": "Dana", "lastname": "Demo",
                                       "email": "dana@example.com", "owner_id": OWNER_ID} if known else None)
    else:
        assert [child.tag for child in twiml] == ["Say", "Say", "Record", "Hangup"]  # issue 15: voicemail
        assert twiml.findtext("Say").startswith("Sorry")
        assert call.status == "no-answer" and call.ended_at is not None
        (sync,) = EngagementSync.select().where(EngagementSync.call == call.id)  # for the contact's timeline
        assert sync.payload["properties"]["hs_call_status"] == "MISSED"
        assert sync.payload["properties"]["hs_call_direction"] == "INBOUND"


def test_dial_rings_browser_clients_with_callbacks_and_our_call_id(make_agent, hubspot_knows_caller, ring):
    owner = make_agent(hubspot_owner_id=OWNER_ID, available=True, last_seen_at=utcnow())
    twiml = ring()
    call = Call.get(Call.sid == inbound_form()["CallSid"])
    dial = twiml.find("Dial")
    assert dial.attrib == {"answerOnBridge": "true", "timeout": "25",
                           "action": f"{PUBLIC_BASE_URL}/twilio/voice/dial-done"}
    (client,) = dial.findall("Client")
    assert client.attrib == {"statusCallback": f"{PUBLIC_BASE_URL}/twilio/voice/status",
                             "statusCallbackEvent": "initiated ringing answered completed"}
    assert client.findtext("Identity") == owner.voice_identity
    assert [p.attrib for p in client.findall("Parameter")] == [{"name": "CallId", "value": str(call.id)}]


def test_twilio_retry_of_the_same_callsid_records_and_rings_once(make_agent, hubspot_unknown_caller,
                                                                  socket_inbox, ring):
    agent = make_agent(available=True, last_seen_at=utcnow())
    inbox = socket_inbox(agent)
    first, second = ring(), ring()
    assert ET.tostring(first) == ET.tostring(second)
    assert Call.select().count() == 1 and CallRing.select().count() == 1
    assert len(inbox) == 1


def test_concurrent_deliveries_of_one_callsid_record_and_ring_once_on_every_database(
        make_app, database_url, serve_app, http_mock):
    app = make_app(DATABASE_URL=database_url)
    with app.app_context(), db.connection_context():
        agent = Agent.create(email="a@example.com", name="A", password_hash="x", available=True,
                             last_seen_at=utcnow())
    http_mock.add(responses.POST, SEARCH_URL, json={"total": 0, "results": []})
    http_mock.add_passthru("http://127.0.0.1")
    address, form = serve_app(app), inbound_form()
    signature = sign(PUBLIC_BASE_URL + "/twilio/voice", form, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
    barrier, answers = threading.Barrier(8), []

    def deliver():
        barrier.wait(timeout=10)
        answer = requests.post(f"http://{address}/twilio/voice", data=form, timeout=30,
                               headers={"X-Twilio-Signature": signature})
        answers.append((answer.status_code, answer.text))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [status for status, _ in answers] == [200] * 8
    assert len({text for _, text in answers}) == 1 and agent.voice_identity in answers[0][1]
    with app.app_context(), db.connection_context():
        assert Call.select().count() == 1 and CallRing.select().count() == 1


def test_at_most_ten_agents_ring(make_agent, hubspot_unknown_caller, ring):
    for i in range(12):
        make_agent(email=f"a{i}@example.com", available=True, last_seen_at=utcnow())
    assert len(client_identities(ring())) == 10


def test_hubspot_failure_rings_as_unknown_caller(make_agent, http_mock, ring, caplog):
    http_mock.add(responses.POST, SEARCH_URL, status=400,
                  json={"status": "error", "message": "bad filter", "category": "VALIDATION_ERROR",
                        "correlationId": "c0ffee"})
    owner = make_agent(hubspot_owner_id=OWNER_ID, available=True, last_seen_at=utcnow())
    other = make_agent(email="b@example.com", available=True, last_seen_at=utcnow())
    assert sorted(client_identities(ring())) == sorted([owner.voice_identity, other.voice_identity])
    assert Call.get().contact_id is None


def test_inactive_agents_never_ring(make_agent, hubspot_unknown_caller, ring):
    make_agent(available=True, active=False, last_seen_at=utcnow())
    assert [child.tag for child in ring()] == ["Say", "Say", "Record", "Hangup"]  # nobody rings: voicemail


def test_malformed_callsid_is_rejected(app, ring):
    from widget_app.core.errors import DomainError
    from widget_app.web.errors import status_for
    with pytest.raises(DomainError) as error:
        ring({**inbound_form(), "CallSid": ""})
    assert status_for(error.value) == 400 and Call.select().count() == 0


# --- <Dial action>: the end of a call nobody took ------------------------------------------------

@pytest.fixture
def ringing_call(make_agent, hubspot_unknown_caller, socket_inbox, ring):
    agents = [make_agent(email=f"r{i}@example.com", available=True, last_seen_at=utcnow()) for i in range(2)]
    inboxes = [socket_inbox(agent) for agent in agents]
    ring()
    for inbox in inboxes:
        inbox.clear()
    return Call.get(Call.sid == inbound_form()["CallSid"]), agents, inboxes


def dial_done(app, status, sid="CA" + "a" * 32):
    form = {"CallSid": sid, "CallStatus": "completed", "DialCallStatus": status, "Direction": "inbound",
            "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"]}
    with app.test_request_context("/twilio/voice/dial-done", method="POST", base_url=PUBLIC_BASE_URL):
        return ET.fromstring(webhooks.dial_done_twiml(form))


@pytest.mark.parametrize("status", ["no-answer", "busy", "failed", "canceled"])
def test_dial_done_unanswered_records_a_missed_call_once(app, ringing_call, status):
    call, agents, inboxes = ringing_call
    twiml = dial_done(app, status)
    assert twiml[-1].tag == "Hangup"
    missed = Call.get_by_id(call.id)
    assert missed.status == "no-answer" and missed.ended_at is not None
    statuses = [[(m["type"], m["call"]["status"]) for m in inbox if m["type"] == "call_status"] for inbox in inboxes]
    assert statuses == [[("call_status", "no-answer")]] * len(inboxes)
    dial_done(app, status)  # Twilio retries
    assert all(len(inbox) == 2 for inbox in inboxes)  # call_status and missed_call, once each


@pytest.mark.parametrize("status", ["answered", "completed"])
def test_dial_done_after_an_answer_keeps_the_call(app, ringing_call, status):
    call, _, inboxes = ringing_call
    Call.update(status="in-progress").where(Call.id == call.id).execute()
    assert [child.tag for child in dial_done(app, status)] == ["Hangup"]
    assert Call.get_by_id(call.id).status == "in-progress"
    assert inboxes == [[], []]


def test_dial_done_for_an_unknown_call_just_hangs_up(app):
    assert [child.tag for child in dial_done(app, "no-answer", sid="CA" + "f" * 32)] == ["Hangup"]
    assert Call.select().count() == 0


# --- through the real webhook ------------------------------------------------------------------

def test_signed_voice_webhook_from_whatsapp_rings_agents(make_agent, hubspot_knows_caller, twilio_post):
    owner = make_agent(hubspot_owner_id=OWNER_ID, available=True, last_seen_at=utcnow())
    answer = twilio_post("/twilio/voice", inbound_form())
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    assert client_identities(ET.fromstring(answer.data)) == [owner.voice_identity]


def test_unsigned_voice_webhook_changes_nothing(make_agent, hubspot_knows_caller, twilio_post):
    make_agent(available=True, last_seen_at=utcnow())
    assert twilio_post("/twilio/voice", inbound_form(), signed=False).status_code == 403
    assert twilio_post("/twilio/voice", inbound_form(), signature="forged").status_code == 403
    assert Call.select().count() == 0 and len(hubspot_knows_caller.calls) == 0


def test_signed_dial_done_webhook_misses_the_call(ringing_call, twilio_post):
    call, _, inboxes = ringing_call
    answer = twilio_post("/twilio/voice/dial-done", {"CallSid": call.sid, "DialCallStatus": "no-answer",
                                                     "CallStatus": "in-progress"})
    assert answer.status_code == 200 and Call.get_by_id(call.id).status == "no-answer"
    assert twilio_post("/twilio/voice/dial-done", {"CallSid": call.sid, "DialCallStatus": "no-answer"},
                       signed=False).status_code == 403


def test_a_recorded_inbound_call_plays_the_consent_notice_then_records_both_parties(
        app, make_agent, hubspot_knows_caller, ring):
    """RECORD_CALLS: the caller hears the notice first; <Dial> records both channels from answer."""
    app.config.update(RECORD_CALLS=True, RECORDING_CONSENT_MESSAGE="This call is recorded.")
    make_agent(hubspot_owner_id=OWNER_ID, available=True, last_seen_at=utcnow())
    twiml = ring()
    assert [child.tag for child in twiml] == ["Say", "Dial"]
    assert twiml.findtext("Say") == "This call is recorded."
    dial = twiml.find("Dial")
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == f"{PUBLIC_BASE_URL}/twilio/recording/status"
