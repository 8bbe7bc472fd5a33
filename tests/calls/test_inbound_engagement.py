"""One engagement per inbound call, whoever answers or nobody: the server logs every inbound call once
(the rung agents' widgets create none), and the answering agent's notes update that same engagement."""
import json

import pytest
import responses

from tests.helpers import HUBSPOT_API, TEST_SETTINGS
from widget_app.agents.accounts import issue_token
from widget_app.hubspot.engagements import drain
from widget_app.models import Call, CallRing, EngagementSync

CALLS = f"{HUBSPOT_API}/crm/objects/2026-03/calls"
CALLER, SENDER = "+447400123456", TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
INBOUND_LEG = "CA" + "i" * 32
CONTACT = {"id": "501", "name": "Dana Demo", "owner_id": None}


@pytest.fixture
def hubspot_calls(http_mock, hubspot_sleeps):
    """HubSpot's calls object: every create answers 201 with a new id, every PATCH 200."""
    created = []

    def create(request):
        created.append(json.loads(request.body))
        call_id = str(17591596434 + len(created))
        return 201, {}, json.dumps({"id": call_id, "properties": {"hs_object_id": call_id}, "archived": False,
                                    "createdAt": "2025-05-01T12:05:00.000Z", "updatedAt": "2025-05-01T12:05:00.000Z"})
    http_mock.add_callback(responses.POST, CALLS, callback=create)
    http_mock.add(responses.PATCH, f"{CALLS}/17591596435", json={"id": "17591596435", "properties": {}})
    return created


@pytest.fixture
def rung_call(db, make_agent):
    """An inbound call from a known contact ringing three agents."""
    agents = [make_agent(email=f"agent{n}@example.com") for n in range(3)]
    call = Call.create(direction="inbound", status="ringing", sid=INBOUND_LEG, from_number=CALLER, to_number=SENDER,
                       contact_id=CONTACT["id"], contact_card=CONTACT)
    for agent in agents:
        CallRing.create(call=call, agent=agent)
    return call, agents


def leg(agent, status, seq, **extra):
    client = f"client:{agent.voice_identity}"
    return {"CallSid": f"CA{agent.id:032d}", "ParentCallSid": INBOUND_LEG, "CallStatus": status,
            "SequenceNumber": str(seq), "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "To": client,
            "Called": client, "From": f"whatsapp:{CALLER}", "Direction": "outbound-dial", **extra}


def dial_done(status):
    return {"CallSid": INBOUND_LEG, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{CALLER}",
            "To": f"whatsapp:{SENDER}", "CallStatus": "completed", "DialCallStatus": status, "Direction": "inbound"}


def test_a_call_that_rang_three_agents_and_nobody_answered_is_logged_once_as_missed(
        app, twilio_post, rung_call, hubspot_calls):
    call, agents = rung_call
    for agent in agents:
        twilio_post("/twilio/voice/status", leg(agent, "no-answer", 3, CallDuration="0"))
    twilio_post("/twilio/voice/dial-done", dial_done("no-answer"))
    twilio_post("/twilio/voice/dial-done", dial_done("no-answer"))  # Twilio's retry
    drain(app)
    assert [body["properties"]["hs_call_status"] for body in hubspot_calls] == ["MISSED"]
    assert hubspot_calls[0]["associations"][0]["to"] == {"id": "501"}
    assert Call.get_by_id(call.id).engagement_id == "17591596435"


def test_an_answered_call_is_logged_once_and_the_notes_update_it(app, client, twilio_post, rung_call, hubspot_calls,
                                                                 http_mock):
    call, agents = rung_call
    winner = agents[0]
    Call.update(agent=winner).where(Call.id == call.id).execute()
    twilio_post("/twilio/voice/status", leg(winner, "in-progress", 2))
    for loser in agents[1:]:
        twilio_post("/twilio/voice/status", leg(loser, "canceled", 3, CallDuration="0"))
    twilio_post("/twilio/voice/status", leg(winner, "completed", 4, CallDuration="40"))
    drain(app)
    assert [body["properties"]["hs_call_status"] for body in hubspot_calls] == ["COMPLETED"]
    with app.test_request_context():
        headers = {"Authorization": f"Bearer {issue_token(winner)}"}
    saved = client.post(f"/api/calls/{call.id}/complete", json={"notes": "Asked about the invoice.", "outcome": ""},
                        headers=headers)
    assert saved.status_code == 202
    drain(app)
    assert len(hubspot_calls) == 1
    patch = [c.request for c in http_mock.calls if c.request.method == "PATCH"]
    assert json.loads(patch[-1].body)["properties"]["hs_call_body"] == "Asked about the invoice."
    assert EngagementSync.select().count() == 1
