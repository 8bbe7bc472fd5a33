"""The simulator plays what Twilio and HubSpot really do: a call failed with an ErrorCode, callbacks
delivered twice or out of order, HubSpot's 429/5xx on demand, its property validation (no UNKNOWN
status) and a calls search that lags writes."""
import pytest

from tests.helpers import CONTACT_PHONE, wait_for
from widget_app.agents.accounts import issue_token
from widget_app.calls.progress import ERROR_MESSAGES
from widget_app.hubspot.client import HubSpotError
from widget_app.hubspot.portals import hubspot_client
from widget_app.models import Call, Permission, WebhookEvent
from widget_app.twilio.client import twilio_client

CALLS = "/crm/objects/2026-03/calls"


@pytest.fixture
def demo_app(make_app):
    return make_app(WIDGET_MODE="demo", DEMO_VOICE_DELAY_SCALE=0)


@pytest.fixture
def demo_client(demo_app, agent, grant_permission):
    """The demo app's client with the agent's Bearer headers, the contact's permission granted."""
    grant_permission()
    with demo_app.test_request_context():
        headers = {"Authorization": f"Bearer {issue_token(agent)}"}
    return demo_app.test_client(), headers


def arrived() -> list[str]:
    """The CallStatus of every status callback our webhook handled, in the order they arrived."""
    rows = WebhookEvent.select().where(WebhookEvent.source == "twilio-voice-status").order_by(WebhookEvent.id)
    return [row.payload["CallStatus"] for row in rows]


def dial(client, headers, agent):
    """What the widget does: initiate, then the demo phone's connect."""
    initiated = client.post("/api/calls/initiate", json={"phone": CONTACT_PHONE}, headers=headers)
    assert initiated.status_code == 201, initiated.json
    connected = client.post("/dev/api/voice/connect", headers=headers,
                            json={"params": initiated.json["voice"]["params"], "identity": agent.voice_identity})
    assert connected.status_code == 200, connected.json
    return initiated.json["call"]["id"]


def test_the_simulated_whatsapp_can_fail_a_call_with_twilios_error_code(demo_client, agent):
    client, headers = demo_client
    told = client.post("/dev/api/contact/call-action", json={"action": "fail", "error_code": "37000"})
    assert told.status_code == 200, told.json
    call = Call.get_by_id(dial(client, headers, agent))
    assert call.status == "failed" and call.error_code == "37000"
    assert Permission.get(Permission.phone == CONTACT_PHONE).status == "revoked"


def test_an_unknown_error_code_is_refused(demo_client):
    client, _ = demo_client
    answer = client.post("/dev/api/contact/call-action", json={"action": "fail", "error_code": "99999"})
    assert answer.status_code == 400 and answer.json["error"]["field"] == "error_code"


def test_callbacks_delivered_twice_change_the_call_once(demo_app, demo_client, agent):
    client, headers = demo_client
    assert client.post("/dev/api/twilio/delivery", json={"duplicate": True}).status_code == 200
    call_id = dial(client, headers, agent)
    sent = demo_app.extensions["demo_twilio_callbacks"]
    assert [p["CallStatus"] for p in sent] == ["initiated", "ringing", "in-progress"]
    call = Call.get_by_id(call_id)
    assert call.status == "in-progress" and call.answered_at is not None


def test_callbacks_out_of_order_never_move_the_call_back(demo_client, agent):
    client, headers = demo_client
    assert client.post("/dev/api/twilio/delivery", json={"out_of_order": True}).status_code == 200
    call_id = dial(client, headers, agent)
    assert wait_for(lambda: len(arrived()) == 3)
    assert arrived()[0] == "in-progress"  # the early ones came late
    assert Call.get_by_id(call_id).status == "in-progress"


def test_demo_hubspot_refuses_a_call_status_outside_its_options(demo_app):
    with demo_app.app_context(), pytest.raises(HubSpotError) as refused:
        hubspot_client().request("POST", CALLS, json={"properties": {"hs_call_status": "UNKNOWN"}})
    assert refused.value.status == 400 and refused.value.category == "VALIDATION_ERROR"
    assert refused.value.body["errors"][0]["in"] == "hs_call_status"


def test_demo_hubspot_answers_429_when_told_and_the_client_waits_as_told(demo_app):
    waits = []
    demo_app.extensions["hubspot_sleep"] = waits.append
    assert demo_app.test_client().post("/dev/api/hubspot/fail", json={"status": 429}).status_code == 200
    with demo_app.app_context():
        created = hubspot_client().request("POST", CALLS, json={"properties": {"hs_call_status": "COMPLETED"}})
    assert created["id"] and waits == [10.0]


def test_demo_hubspot_answers_503_when_told(demo_app):
    demo_app.test_client().post("/dev/api/hubspot/fail", json={"status": 503, "count": 1})
    with demo_app.app_context(), pytest.raises(HubSpotError) as failed:
        hubspot_client().request("POST", CALLS, json={"properties": {}})  # a create is never repeated
    assert failed.value.status == 503 and failed.value.transient


def test_demo_hubspots_search_sees_a_write_only_after_a_moment(demo_app):
    cloud, now = demo_app.extensions["hubspot_demo_cloud"], [100.0]
    cloud.clock = lambda: now[0]
    search = {"filterGroups": [{"filters": [{"propertyName": "hs_call_external_id", "operator": "EQ",
                                             "value": "CA-lag"}]}]}
    with demo_app.app_context():
        hubspot_client().request("POST", CALLS, json={"properties": {"hs_call_external_id": "CA-lag"}})
        assert hubspot_client().request("POST", f"{CALLS}/search", json=search)["total"] == 0
        now[0] += 1.5
        assert hubspot_client().request("POST", f"{CALLS}/search", json=search)["total"] == 1


def test_the_simulated_twilio_answers_the_reconcilers_fetch(demo_app, demo_client, agent):
    client, headers = demo_client
    call = Call.get_by_id(dial(client, headers, agent))
    with demo_app.app_context():
        assert twilio_client().calls(call.sid).fetch().status == "in-progress"


@pytest.mark.parametrize("code", ["37004", "37007", "37008"])
def test_the_simulated_whatsapp_fails_a_call_with_each_refusal_code_and_the_agent_reads_what_to_do(
        demo_client, agent, code):
    client, headers = demo_client
    assert client.post("/dev/api/contact/call-action", json={"action": "fail", "error_code": code}).status_code == 200
    call = Call.get_by_id(dial(client, headers, agent))
    assert (call.status, call.error_code) == ("failed", code)
    assert call.error_message == ERROR_MESSAGES[code]
    assert Permission.get(Permission.phone == CONTACT_PHONE).status != "revoked"  # only 37000 revokes
