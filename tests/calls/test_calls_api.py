"""/api/calls/* and /api/voice/token: placing, following and ending an outbound WhatsApp call."""
from datetime import timedelta
from urllib.parse import parse_qs

import jwt
import pytest
from freezegun import freeze_time

from tests.helpers import CONTACT_PHONE, TEST_SETTINGS, TWILIO_API
from widget_app.core.clock import isoformat, utcnow
from widget_app.models import Call, PhoneNumber

BROWSER_LEG = "CA" + "b" * 32
WHATSAPP_LEG = "CA" + "w" * 32


def initiate(client, headers, **body):
    return client.post("/api/calls/initiate", json={"phone": CONTACT_PHONE, **body}, headers=headers)


def test_initiate_records_the_call_and_returns_the_dial_parameters(client, auth_headers, agent, grant_permission):
    agent.hubspot_owner_id, agent.hubspot_portal_id = "789", "123"
    agent.save()
    grant_permission()
    response = initiate(client, auth_headers, phone="+44 7911 123456",
                        hubspot={"engagementId": 555, "objectId": 901, "objectType": "CONTACT", "portalId": 123})
    assert response.status_code == 201, response.json
    call = response.json["call"]
    assert call["direction"] == "outbound" and call["status"] == "queued"
    assert call["to"] == CONTACT_PHONE and call["from"] == TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
    assert call["agent_id"] == agent.id and call["contact_id"] == "901" and call["engagement_id"] == "555"
    assert response.json["voice"]["params"] == {"To": CONTACT_PHONE, "CallId": str(call["id"]),
                                                "Sender": TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]}
    row = Call.get_by_id(call["id"])
    assert (row.owner_id, row.hubspot_portal_id) == ("789", "123")


def test_initiate_dials_the_demo_contacts_drama_range_number(client, auth_headers, grant_permission):
    grant_permission("+447400123456")  # Ofcom's fictional range: phonenumbers calls it invalid
    response = initiate(client, auth_headers, phone="+44 7400 123456")
    assert response.status_code == 201, response.json
    assert response.json["call"]["to"] == "+447400123456"


def test_initiate_takes_the_contact_from_hubspots_callee_match(client, auth_headers, grant_permission):
    grant_permission()
    response = initiate(client, auth_headers, hubspot={"objectId": 77, "objectType": "COMPANY",
                                                       "calleeInfo": {"calleeId": 42, "calleeObjectTypeId": "0-1"}})
    assert response.json["call"]["contact_id"] == "42"


def test_initiate_does_not_take_a_company_as_the_contact(client, auth_headers, grant_permission):
    grant_permission()
    response = initiate(client, auth_headers, hubspot={"objectId": 77, "objectType": "COMPANY"})
    assert response.status_code == 201 and response.json["call"]["contact_id"] is None


def test_initiate_from_one_of_our_other_senders(client, auth_headers, grant_permission, db):
    grant_permission()
    PhoneNumber.create(e164="+34911234567", friendly_name="Spain")
    response = initiate(client, auth_headers, **{"from": "+34 911 23 45 67"})
    assert response.status_code == 201
    assert response.json["call"]["from"] == "+34911234567"
    assert response.json["voice"]["params"]["Sender"] == "+34911234567"


@pytest.mark.parametrize("sender", ["+34911234567", "whatever"])
def test_initiate_refuses_a_sender_that_is_not_ours(client, auth_headers, grant_permission, sender):
    grant_permission()
    response = initiate(client, auth_headers, **{"from": sender})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_sender"
    assert Call.select().count() == 0


def test_initiate_without_permission_is_403_with_the_reason(client, auth_headers, db):
    response = initiate(client, auth_headers)
    assert response.status_code == 403
    assert response.json["error"]["code"] == "permission_required"
    assert response.json["error"]["message"]
    assert Call.select().count() == 0


def test_initiate_over_the_daily_cap_is_429(client, auth_headers, agent, grant_permission):
    grant_permission()
    now = utcnow()
    for minutes in range(TEST_SETTINGS.get("MAX_CONNECTED_CALLS_PER_DAY", 5)):
        Call.create(direction="outbound", status="completed", from_number="+442071838750",
                    to_number=CONTACT_PHONE, agent=agent, answered_at=now - timedelta(minutes=minutes + 1),
                    ended_at=now - timedelta(minutes=minutes), duration_seconds=30, missed_counted=True)
    response = initiate(client, auth_headers)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "call_limit_reached"
    assert Call.select().where(Call.status == "queued").count() == 0


@pytest.mark.parametrize("body, code", [({"phone": "12"}, "invalid_phone"), ({}, "missing_field"),
                                        ({"phone": CONTACT_PHONE, "hubspot": "x"}, "invalid_field")])
def test_initiate_validates_its_input(client, auth_headers, db, body, code):
    response = client.post("/api/calls/initiate", json=body, headers=auth_headers)
    assert response.status_code == 400 and response.json["error"]["code"] == code


def test_every_call_route_needs_a_token(client, db):
    for method, path in [("post", "/api/calls/initiate"), ("get", "/api/calls/status/1"), ("post", "/api/calls/end"),
                         ("post", "/api/calls/1/engagement"), ("get", "/api/voice/token"), ("get", "/api/numbers")]:
        assert getattr(client, method)(path, json={}).status_code == 401, path


def test_status_by_id_or_either_call_sid(client, auth_headers, make_call):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, sid=WHATSAPP_LEG, status="ringing")
    for key in (call.id, BROWSER_LEG, WHATSAPP_LEG):
        response = client.get(f"/api/calls/status/{key}", headers=auth_headers)
        assert response.status_code == 200 and response.json["call"]["status"] == "ringing"


def test_status_of_another_agents_call_is_404(client, auth_headers, make_call, make_agent):
    other = make_call(initiated=True, agent=make_agent(email="bo@example.com"))
    response = client.get(f"/api/calls/status/{other.id}", headers=auth_headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "call_not_found"


def test_end_hangs_up_the_browser_leg_at_twilio(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, sid=WHATSAPP_LEG, status="in-progress")
    http_mock.post(f"{TWILIO_API}/Calls/{BROWSER_LEG}.json",
                   json={"sid": BROWSER_LEG, "status": "completed", "account_sid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"]})
    response = client.post("/api/calls/end", json={"call_id": call.id}, headers=auth_headers)
    assert response.status_code == 200, response.json
    assert response.json["call"]["id"] == call.id
    [sent] = http_mock.calls
    assert parse_qs(sent.request.body) == {"Status": ["completed"]}
    assert sent.request.headers["Authorization"].startswith("Basic ")


def test_end_reports_twilios_error(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, status="ringing")
    http_mock.post(f"{TWILIO_API}/Calls/{BROWSER_LEG}.json", status=400,
                   json={"code": 21220, "message": "Call is not in-progress. Cannot redirect.",
                         "more_info": "https://www.twilio.com/docs/errors/21220", "status": 400})
    response = client.post("/api/calls/end", json={"call_id": call.id}, headers=auth_headers)
    assert response.status_code == 502
    assert response.json["error"]["code"] == "twilio_error"
    assert "Call is not in-progress" in response.json["error"]["message"]
    assert response.json["error"]["twilio_code"] == 21220


def test_end_of_a_call_the_browser_never_placed_cancels_it_without_twilio(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True)
    response = client.post("/api/calls/end", json={"call_id": str(call.id)}, headers=auth_headers)
    assert response.status_code == 200
    assert response.json["call"]["status"] == "canceled" and response.json["call"]["ended_at"]
    assert len(http_mock.calls) == 0


def test_end_of_a_finished_call_changes_nothing(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, status="completed")
    response = client.post("/api/calls/end", json={"call_id": call.id}, headers=auth_headers)
    assert response.status_code == 200 and response.json["call"]["status"] == "completed"
    assert len(http_mock.calls) == 0


def test_end_of_another_agents_call_is_404(client, auth_headers, make_call, make_agent, http_mock):
    other = make_call(initiated=True, agent=make_agent(email="bo@example.com"), parent_sid=BROWSER_LEG, status="ringing")
    response = client.post("/api/calls/end", json={"call_id": other.id}, headers=auth_headers)
    assert response.status_code == 404 and len(http_mock.calls) == 0


def test_engagement_id_from_hubspot_is_stored(client, auth_headers, make_call):
    call = make_call(initiated=True)
    response = client.post(f"/api/calls/{call.id}/engagement", json={"engagementId": 98765}, headers=auth_headers)
    assert response.status_code == 200 and response.json["call"]["engagement_id"] == "98765"
    assert Call.get_by_id(call.id).engagement_id == "98765"


@pytest.mark.parametrize("body", [{}, {"engagementId": "abc"}, {"engagementId": ""}])
def test_engagement_id_must_be_hubspots_number(client, auth_headers, make_call, body):
    call = make_call(initiated=True)
    response = client.post(f"/api/calls/{call.id}/engagement", json=body, headers=auth_headers)
    assert response.status_code == 400


def test_engagement_on_another_agents_call_is_404(client, auth_headers, make_call, make_agent):
    other = make_call(initiated=True, agent=make_agent(email="bo@example.com"))
    response = client.post(f"/api/calls/{other.id}/engagement", json={"engagementId": 1}, headers=auth_headers)
    assert response.status_code == 404 and Call.get_by_id(other.id).engagement_id is None


def test_voice_token_is_a_jwt_with_the_voice_grant(client, auth_headers, agent):
    now = utcnow().replace(microsecond=0)
    with freeze_time(now):
        response = client.get("/api/voice/token", headers=auth_headers)
    assert response.status_code == 200
    body = response.json
    assert body["identity"] == f"agent_{agent.id}" and body["expires_at"] == isoformat(now + timedelta(hours=1))
    claims = jwt.decode(body["token"], TEST_SETTINGS["TWILIO_API_KEY_SECRET"], algorithms=["HS256"])
    assert jwt.get_unverified_header(body["token"])["cty"] == "twilio-fpa;v=1"
    assert claims["iss"] == TEST_SETTINGS["TWILIO_API_KEY_SID"] and claims["sub"] == TEST_SETTINGS["TWILIO_ACCOUNT_SID"]
    assert claims["grants"]["identity"] == f"agent_{agent.id}"
    assert claims["grants"]["voice"] == {"incoming": {"allow": True},
                                         "outgoing": {"application_sid": TEST_SETTINGS["TWILIO_TWIML_APP_SID"]}}
    assert claims["exp"] == int((now + timedelta(hours=1)).timestamp())


def test_numbers_lists_our_senders_default_first(client, auth_headers, db):
    PhoneNumber.create(e164="+34911234567", friendly_name="Spain")
    response = client.get("/api/numbers", headers=auth_headers)
    assert response.status_code == 200
    assert response.json["numbers"] == [
        {"e164": TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"], "friendly_name": "Default sender", "is_default": True},
        {"e164": "+34911234567", "friendly_name": "Spain", "is_default": False}]
