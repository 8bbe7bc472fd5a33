"""Demo mode's Twilio voice cloud: the demo phone dials through our real /twilio/voice, and the
simulated WhatsApp leg reports to our real /twilio/voice/status, signed, like Twilio."""

import pytest
from freezegun import freeze_time

from tests.helpers import CONTACT_PHONE, wait_for
from widget_app.core.clock import utcnow
from widget_app.models import Agent, Call, Permission, WebhookEvent

DANA_DEMO = "+447400123456"  # the simulated HubSpot's demo contact


@pytest.fixture
def demo(make_app, agent, grant_permission, headers_for):
    """A demo-mode app whose simulated call steps run at once (DEMO_VOICE_DELAY_SCALE=0)."""
    def build(scale=0.0, permission=True):
        if permission:
            grant_permission()
        app = make_app(WIDGET_MODE="demo", DEMO_VOICE_DELAY_SCALE=scale)
        return app.test_client(), headers_for(agent, app)
    return build


def dial(client, headers, agent, phone=CONTACT_PHONE):
    """What the widget does: initiate, then the demo phone's connect with the returned params."""
    initiated = client.post("/api/calls/initiate", json={"phone": phone}, headers=headers)
    assert initiated.status_code == 201, initiated.json
    connected = client.post("/dev/api/voice/connect", headers=headers,
                            json={"params": initiated.json["voice"]["params"], "identity": agent.voice_identity})
    assert connected.status_code == 200, connected.json
    return initiated.json["call"]["id"], connected.json


def callbacks_seen() -> list[str]:
    """The CallStatus of every status callback our real webhook handled, in order."""
    rows = WebhookEvent.select().where(WebhookEvent.source == "twilio-voice-status").order_by(WebhookEvent.id)
    return [row.payload["CallStatus"] for row in rows]


def test_round_trip_rings_answers_and_hangs_up_with_a_duration(demo, agent):
    client, headers = demo()
    with freeze_time(utcnow().replace(microsecond=0)) as frozen:
        call_id, connected = dial(client, headers, agent)
        assert connected["sid"].startswith("CA") and connected["status"] == "in-progress"
        live = client.get(f"/api/calls/status/{call_id}", headers=headers).json["call"]
        assert live["status"] == "in-progress" and live["answered_at"] and live["sid"].startswith("CA")
        frozen.tick(42)
        ended = client.post("/api/calls/end", json={"call_id": call_id}, headers=headers)
    assert ended.status_code == 200, ended.json
    assert ended.json["call"]["status"] == "completed" and ended.json["call"]["duration_seconds"] == 42
    assert callbacks_seen() == ["initiated", "ringing", "in-progress", "completed"]
    call = Call.get_by_id(call_id)
    assert call.parent_sid == connected["sid"] and call.sid != call.parent_sid
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 0


def test_the_simulators_demo_contact_can_be_called(demo, agent, grant_permission):
    client, headers = demo()
    grant_permission(DANA_DEMO)
    call_id, _ = dial(client, headers, agent, phone=DANA_DEMO)
    call = Call.get_by_id(call_id)
    assert call.to_number == DANA_DEMO and call.status == "in-progress"


def test_contact_declines_the_next_call(demo, agent):
    client, headers = demo()
    chosen = client.post("/dev/api/contact/call-action", json={"action": "decline"})
    assert chosen.status_code == 200 and chosen.json["next_call"] == "decline"
    call_id, _ = dial(client, headers, agent)
    assert Call.get_by_id(call_id).status == "busy"
    assert callbacks_seen() == ["initiated", "ringing", "busy"]
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 1
    second_id, _ = dial(client, headers, agent)  # the choice was for one call only
    assert Call.get_by_id(second_id).status == "in-progress"


def test_contact_does_not_answer(demo, agent):
    client, headers = demo()
    client.post("/dev/api/contact/call-action", json={"action": "no_answer"})
    call_id, _ = dial(client, headers, agent)
    call = Call.get_by_id(call_id)
    assert call.status == "no-answer" and call.answered_at is None and call.duration_seconds == 0
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 1


def test_contact_hangs_up_an_answered_call(demo, agent):
    client, headers = demo()
    call_id, _ = dial(client, headers, agent)
    action = client.post("/dev/api/contact/call-action", json={"action": "hang_up"})
    assert action.status_code == 200 and len(action.json["calls"]) == 1
    assert Call.get_by_id(call_id).status == "completed"
    again = client.post("/dev/api/contact/call-action", json={"action": "hang_up"})
    assert again.status_code == 409 and again.json["error"]["code"] == "no_active_call"


def test_unknown_contact_action_is_400(demo):
    client, _ = demo()
    response = client.post("/dev/api/contact/call-action", json={"action": "explode"})
    assert response.status_code == 400


def test_a_refused_call_returns_the_spoken_reason(demo, agent):
    client, headers = demo()
    initiated = client.post("/api/calls/initiate", json={"phone": CONTACT_PHONE}, headers=headers)
    Permission.update(status="revoked").where(Permission.phone == CONTACT_PHONE).execute()  # revoked meanwhile
    connected = client.post("/dev/api/voice/connect", headers=headers,
                            json={"params": initiated.json["voice"]["params"], "identity": agent.voice_identity})
    assert connected.status_code == 200
    assert connected.json["status"] == "completed" and connected.json["spoken"]
    call = Call.get_by_id(initiated.json["call"]["id"])
    assert call.status == "failed" and call.error_message == connected.json["spoken"]
    assert callbacks_seen() == []


def test_connect_needs_the_agents_token_and_identity(demo, agent):
    client, headers = demo()
    params = {"To": CONTACT_PHONE, "CallId": "1"}
    assert client.post("/dev/api/voice/connect", json={"params": params, "identity": agent.voice_identity}
                       ).status_code == 401
    wrong = client.post("/dev/api/voice/connect", headers=headers, json={"params": params, "identity": "agent_999"})
    assert wrong.status_code == 403


def test_demo_phone_does_not_exist_in_live_mode(client, auth_headers, agent):
    response = client.post("/dev/api/voice/connect", headers=auth_headers,
                           json={"params": {}, "identity": agent.voice_identity})
    assert response.status_code == 404


def test_hanging_up_a_call_the_simulated_twilio_does_not_know_is_a_twilio_error(demo, agent, make_call):
    client, headers = demo()
    call = make_call(initiated=True, parent_sid="CA" + "0" * 32, status="ringing")
    response = client.post("/api/calls/end", json={"call_id": call.id}, headers=headers)
    assert response.status_code == 502 and response.json["error"]["twilio_code"] == 20404


def test_timers_play_the_call_in_the_background(demo, agent):
    client, headers = demo(scale=0.01)
    call_id, _ = dial(client, headers, agent)
    assert wait_for(lambda: Call.get_by_id(call_id).status == "in-progress")
    client.post("/api/calls/end", json={"call_id": call_id}, headers=headers)
    assert wait_for(lambda: Call.get_by_id(call_id).status == "completed")
    assert callbacks_seen() == ["initiated", "ringing", "in-progress", "completed"]



def test_agent_hangs_up_an_answered_inbound_call(demo, agent, http_mock):
    client, headers = demo()
    Agent.update(available=True, last_seen_at=utcnow()).where(Agent.id == agent.id).execute()
    rang = client.post("/dev/api/contact/call-in", json={"phone": CONTACT_PHONE})
    assert rang.status_code == 201, rang.json
    call_id = rang.json["call"]["id"]
    assert client.post(f"/api/calls/{call_id}/accept", headers=headers).status_code == 200
    assert client.post("/dev/api/voice/inbound-answer", json={"call_id": call_id}).status_code == 200
    ended = client.post("/api/calls/end", json={"call_id": call_id}, headers=headers)
    assert ended.status_code == 200, ended.json
    call = Call.get_by_id(call_id)
    assert call.status == "completed" and call.ended_at is not None and call.duration_seconds is not None
