"""Demo mode (issue 15): the simulator's "Contact calls in after hours" and "Contact leaves a voicemail" drive
our real, signed webhooks, and the voicemail plays through our recording link from the demo's Twilio media."""
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import TEST_SETTINGS
from widget_app.core.clock import utcnow
from widget_app.models import Agent, Call, PhoneNumber, WebhookEvent

SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]


@pytest.fixture
def demo(make_app, agent, headers_for):
    app = make_app(WIDGET_MODE="demo", DEMO_VOICE_DELAY_SCALE=0)
    return app, app.test_client(), headers_for(agent, app)


def test_a_contact_calling_after_hours_hears_the_message_and_the_greeting_and_nobody_rings(demo, agent):
    app, client, _ = demo
    Agent.update(available=True, last_seen_at=utcnow()).where(Agent.id == agent.id).execute()
    answer = client.post("/dev/api/contact/call-in-after-hours", json={})
    assert answer.status_code == 201, answer.json
    twiml = ET.fromstring(answer.json["twiml"])
    assert [say.text for say in twiml.iter("Say")][:2] == [app.config["AFTER_HOURS_MESSAGE"],
                                                          app.config["VOICEMAIL_GREETING"]]
    assert twiml.find("Record") is not None and twiml.find("Dial") is None
    assert answer.json["call"]["status"] == "no-answer"
    assert PhoneNumber.select().where(PhoneNumber.e164 == SENDER).count() == 0  # open again afterwards


def test_a_contact_leaving_a_voicemail_on_a_ringing_call_reaches_the_missed_list_and_plays(demo, agent):
    app, client, headers = demo
    Agent.update(available=True, last_seen_at=utcnow()).where(Agent.id == agent.id).execute()
    rung = client.post("/dev/api/contact/call-in", json={})
    assert ET.fromstring(rung.json["twiml"]).find("Dial") is not None
    left = client.post("/dev/api/contact/leave-voicemail", json={"call_id": rung.json["call"]["id"]})
    assert left.status_code == 200, left.json
    call = Call.get_by_id(rung.json["call"]["id"])
    assert call.status == "no-answer" and call.voicemail_seconds == 3 and call.recording_sid.startswith("RE")
    assert WebhookEvent.select().where(WebhookEvent.key == f"twilio-recording:{call.recording_sid}").count() == 1
    Agent.update(hubspot_owner_id=call.owner_id).where(Agent.id == agent.id).execute()  # Dana's owner sees it
    (row,) = client.get("/api/calls/missed", headers=headers).json["calls"]
    assert row["voicemail"] == {"seconds": 3}
    link = client.get(f"/api/calls/{call.id}/voicemail", headers=headers).json["url"]
    audio = client.get(link, headers={"Range": "bytes=0-"})
    assert audio.status_code == 206 and audio.data[:4] == b"RIFF" and audio.headers["Content-Type"] == "audio/x-wav"


def test_leaving_a_voicemail_without_a_call_calls_in_first(demo):
    _, client, _ = demo
    assert client.post("/dev/api/contact/leave-voicemail", json={}).status_code == 200
    assert Call.get().voicemail_seconds == 3


def test_no_voicemail_when_it_is_off(demo):
    app, client, _ = demo
    app.config["VOICEMAIL"] = False
    answer = client.post("/dev/api/contact/leave-voicemail", json={})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "invalid_state"
    assert Call.get().recording_url is None
