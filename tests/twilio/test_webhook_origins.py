"""Behind a proxy our app is reached on an internal address (http://10.0.0.5:8000/…) while Twilio and
HubSpot sign the public URL they called: signatures are checked over PUBLIC_BASE_URL, never the
address the request happened to arrive on. And a call's news reaches only the agent it belongs to."""
import json
import time

import pytest

from tests.helpers import CONTACT_PHONE, PUBLIC_BASE_URL, TEST_SETTINGS, hubspot_v3_signature
from widget_app.models import Call, CallRing, PhoneNumber
from widget_app.twilio.signatures import sign

INTERNAL = "http://10.0.0.5:8000"  # the Flask test client's base_url only: nothing is sent there
WHATSAPP_LEG, BROWSER_LEG = "CA" + "w" * 32, "CA" + "b" * 32
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]


def status_form(status, seq, sid=WHATSAPP_LEG, parent=BROWSER_LEG, **extra):
    return {"CallSid": sid, "ParentCallSid": parent, "CallStatus": status, "SequenceNumber": str(seq),
            "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "To": CONTACT_PHONE, **extra}


def twilio_at_internal_address(client, path, form, signed_over):
    signature = sign(signed_over + path, form, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
    return client.post(path, data=form, base_url=INTERNAL, headers={"X-Twilio-Signature": signature})


def hubspot_at_internal_address(client, path, body, signed_over):
    raw, ts = json.dumps(body), str(int(time.time() * 1000))
    signature = hubspot_v3_signature(TEST_SETTINGS["HUBSPOT_CLIENT_SECRET"], "POST", signed_over + path, raw, ts)
    return client.post(path, data=raw, base_url=INTERNAL, headers={
        "Content-Type": "application/json", "X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": ts})


@pytest.fixture
def placed(db, agent, grant_permission):
    grant_permission()
    return Call.create(direction="outbound", status="queued", from_number=SENDER, to_number=CONTACT_PHONE,
                       agent=agent, parent_sid=BROWSER_LEG)


def test_a_twilio_callback_on_an_internal_address_signed_over_the_public_url_is_applied(client, placed):
    response = twilio_at_internal_address(client, "/twilio/voice/status", status_form("ringing", 1), PUBLIC_BASE_URL)
    assert response.status_code == 204
    assert Call.get_by_id(placed.id).status == "ringing"


def test_a_twilio_callback_signed_over_the_internal_address_is_refused(client, placed):
    response = twilio_at_internal_address(client, "/twilio/voice/status", status_form("ringing", 1), INTERNAL)
    assert response.status_code == 403
    assert Call.get_by_id(placed.id).status == "queued"


def test_a_hubspot_request_on_an_internal_address_signed_over_the_public_url_is_answered(client, db):
    PhoneNumber.create(e164="+442071838750", friendly_name="London", is_default=True)
    body = {"appId": 123456, "portalId": 62515, "userId": 987654}
    response = hubspot_at_internal_address(client, "/hubspot/channel-connection", body, PUBLIC_BASE_URL)
    assert response.status_code == 200
    assert response.get_json()["phoneNumbers"][0]["e164PhoneNumber"] == "+442071838750"
    refused = hubspot_at_internal_address(client, "/hubspot/channel-connection", body, INTERNAL)
    assert refused.status_code == 401 and b"+44" not in refused.data


def test_other_agents_sockets_never_hear_a_calls_status(twilio_post, db, agent, make_agent, socket_inbox):
    other = make_agent(email="other@example.com")
    mine, theirs = socket_inbox(agent), socket_inbox(other)
    inbound_leg = "CA" + "i" * 32
    call = Call.create(direction="inbound", status="ringing", sid=inbound_leg, from_number=CONTACT_PHONE,
                       to_number=SENDER, agent=agent)
    for rung in (agent, other):
        CallRing.create(call=call, agent=rung)
    leg = {"ParentCallSid": inbound_leg, "To": f"client:{agent.voice_identity}"}
    twilio_post("/twilio/voice/status", status_form("in-progress", 2, sid="CA" + "a" * 32, **leg))
    twilio_post("/twilio/voice/status", status_form("completed", 3, sid="CA" + "a" * 32, CallDuration="9", **leg))
    assert [m["call"]["status"] for m in mine if m["type"] == "call_status"] == ["in-progress", "completed"]
    assert [m for m in theirs if m["type"] == "call_status"] == []
