"""/api/permissions: status, request through Twilio's Messages API, validate (CONTRACT §4)."""
import pytest
import requests
from freezegun import freeze_time

from tests.helpers import CONTACT_PHONE, PUBLIC_BASE_URL, TEST_SETTINGS, TWILIO_API
from widget_app.core.clock import isoformat, utcnow
from widget_app.models import Permission, PermissionRequest


def ask(client, headers, phone=CONTACT_PHONE):
    return client.post("/api/permissions/request", json={"phone": phone}, headers=headers)


def test_status_of_a_contact_never_asked(client, auth_headers):
    permission = client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=auth_headers).json["permission"]
    assert permission == {**permission, "phone": CONTACT_PHONE, "status": "none", "can_call": False,
                          "can_request": True, "expires_at": None, "next_request_at": None,
                          "requests_last_24h": 0, "requests_last_7d": 0, "consecutive_missed": 0}


def test_status_normalises_the_phone(client, auth_headers):
    response = client.get("/api/permissions/status/whatsapp:+44 7911 123456", headers=auth_headers)
    assert response.json["permission"]["phone"] == CONTACT_PHONE


def test_request_sends_the_template_through_twilio(client, auth_headers, agent, twilio_messages):
    response = ask(client, auth_headers)
    assert response.status_code == 202
    assert response.json["permission"]["status"] == "pending"
    assert response.json["permission"]["can_request"] is False
    [form] = twilio_messages
    assert form["To"] == f"whatsapp:{CONTACT_PHONE}"
    assert form["From"] == f"whatsapp:{TEST_SETTINGS['TWILIO_WHATSAPP_NUMBER']}"
    assert form["ContentSid"] == TEST_SETTINGS["TWILIO_PERMISSION_CONTENT_SID"]
    assert form["StatusCallback"] == f"{PUBLIC_BASE_URL}/twilio/messaging/status"
    assert form["_authorization"].startswith("Basic ")
    row = PermissionRequest.get(PermissionRequest.kind == "request")
    assert (row.agent_id, row.phone, row.status) == (agent.id, CONTACT_PHONE, "queued")
    assert row.message_sid.startswith("SM")


def test_a_twilio_refusal_is_502_and_does_not_count(client, auth_headers, http_mock, twilio_messages):
    http_mock.replace("POST", f"{TWILIO_API}/Messages.json", status=400, json={
        "code": 63016, "message": "Failed to send freeform message because you are outside the allowed window.",
        "more_info": "https://www.twilio.com/docs/errors/63016", "status": 400})
    response = ask(client, auth_headers)
    assert response.status_code == 502
    error = response.json["error"]
    assert (error["code"], error["twilio_code"]) == ("twilio_error", 63016)
    assert "outside the allowed window" in error["message"]
    audit = PermissionRequest.get(PermissionRequest.kind == "request")
    assert audit.status == "failed" and "63016" in audit.error
    permission = client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=auth_headers).json["permission"]
    assert (permission["status"], permission["can_request"], permission["requests_last_24h"]) == ("none", True, 0)
    assert permission["request_delivery"] == "failed"


def test_after_a_refused_send_the_next_request_goes_out(client, auth_headers, http_mock):
    url = f"{TWILIO_API}/Messages.json"
    http_mock.add("POST", url, status=400, json={"code": 21211, "message": "Invalid 'To' Phone Number",
                                                 "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})
    http_mock.add("POST", url, status=201, json={"sid": "SM" + "a" * 32, "status": "queued", "to": "", "from": ""})
    assert ask(client, auth_headers).status_code == 502
    assert ask(client, auth_headers).status_code == 202
    assert PermissionRequest.select().where(PermissionRequest.status == "failed").count() == 1


def test_twilio_unreachable_is_502_and_counts(client, auth_headers, http_mock):
    http_mock.add("POST", f"{TWILIO_API}/Messages.json", body=requests.ConnectionError("connection reset"))
    response = ask(client, auth_headers)
    assert response.status_code == 502 and response.json["error"]["code"] == "twilio_error"
    permission = client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=auth_headers).json["permission"]
    assert (permission["can_request"], permission["requests_last_24h"]) == (False, 1)  # it may have gone out


def test_a_second_request_within_24h_is_429_and_twilio_is_not_called(client, auth_headers, twilio_messages):
    assert ask(client, auth_headers).status_code == 202
    response = ask(client, auth_headers)
    assert response.status_code == 429
    assert response.json["error"]["code"] == "permission_rate_limited"
    assert response.json["error"]["retry_at"] == response.json["error"]["permission"]["next_request_at"]
    assert len(twilio_messages) == 1


def test_permissions_are_shared_by_the_team(client, auth_headers, make_agent, headers_for, twilio_messages):
    assert ask(client, auth_headers).status_code == 202
    other = headers_for(make_agent(email="bo@example.com"))
    assert client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=other).json["permission"]["status"] == "pending"
    assert ask(client, other).status_code == 429


def test_already_granted_is_409(client, auth_headers, grant_permission, twilio_messages):
    grant_permission()
    response = ask(client, auth_headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "already_granted"
    assert twilio_messages == []


def test_a_request_already_being_sent_is_409(client, auth_headers, db, twilio_messages):
    Permission.create(phone=CONTACT_PHONE, request_lease_until=utcnow().replace(year=2100))
    response = ask(client, auth_headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "request_in_progress"
    assert twilio_messages == []


def test_the_lease_is_released_after_a_refusal(client, auth_headers, grant_permission):
    grant_permission()
    ask(client, auth_headers)
    assert Permission.get(Permission.phone == CONTACT_PHONE).request_lease_until is None


def test_validate_says_no_without_permission(client, auth_headers, db):
    body = client.post("/api/permissions/validate", json={"phone": CONTACT_PHONE}, headers=auth_headers).json
    assert body["can_call"] is False and body["code"] == "permission_required" and body["reason"]


def test_validate_says_yes_with_a_live_grant(client, auth_headers, grant_permission):
    grant_permission()
    body = client.post("/api/permissions/validate", json={"phone": CONTACT_PHONE}, headers=auth_headers).json
    assert body["can_call"] is True and "allows calls until" in body["reason"]


def test_a_request_tells_every_widget(client, auth_headers, agent, make_agent, socket_inbox, twilio_messages):
    inboxes = [socket_inbox(agent), socket_inbox(make_agent(email="bo@example.com"))]
    ask(client, auth_headers)
    for inbox in inboxes:
        assert inbox[-1]["type"] == "permission_updated"
        assert inbox[-1]["permission"]["status"] == "pending"


@pytest.mark.parametrize("method, path, body", [
    ("get", "/api/permissions/status/12", None),
    ("get", "/api/permissions/status/not-a-number", None),
    ("post", "/api/permissions/request", {"phone": "12"}),
    ("post", "/api/permissions/request", {"phone": "+447700900555"}),  # Ofcom drama range: not a real number
    ("post", "/api/permissions/validate", {"phone": "+1 555"}),
])
def test_invalid_phone_is_400(client, auth_headers, db, method, path, body, twilio_messages):
    response = getattr(client, method)(path, json=body, headers=auth_headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_phone"
    assert twilio_messages == [] and PermissionRequest.select().count() == 0


@pytest.mark.parametrize("path", ["/api/permissions/request", "/api/permissions/validate"])
@pytest.mark.parametrize("body, code", [({}, "missing_field"), ({"phone": 447911123456}, "invalid_field")])
def test_bodies_are_validated(client, auth_headers, db, path, body, code):
    response = client.post(path, json=body, headers=auth_headers)
    assert response.status_code == 400 and response.json["error"]["code"] == code


@pytest.mark.parametrize("method, path", [("get", f"/api/permissions/status/{CONTACT_PHONE}"),
                                          ("post", "/api/permissions/request"), ("post", "/api/permissions/validate")])
def test_every_permission_route_needs_a_token(client, db, method, path, twilio_messages):
    response = getattr(client, method)(path, json={"phone": CONTACT_PHONE})
    assert response.status_code == 401
    assert twilio_messages == []


def test_the_request_row_keeps_the_time_it_was_sent(client, agent, headers_for, twilio_messages):
    with freeze_time("2025-06-02 09:00:00"):
        assert ask(client, headers_for(agent)).status_code == 202
    row = PermissionRequest.get(PermissionRequest.kind == "request")
    assert row.created_at.isoformat() == "2025-06-02T09:00:00+00:00"


OTHER_CONTACT = "+447911123457"


def test_pending_lists_the_contacts_this_agent_asked_who_have_not_answered(
        client, agent, make_agent, headers_for, messaging_post, twilio_messages):
    mine, theirs = headers_for(agent), headers_for(make_agent(email="bo@example.com"))
    assert ask(client, mine).status_code == 202
    assert ask(client, mine, OTHER_CONTACT).status_code == 202
    assert ask(client, theirs, "+447911123458").status_code == 202
    listed = client.get("/api/permissions/pending", headers=mine).json["permissions"]
    assert sorted(p["phone"] for p in listed) == sorted([OTHER_CONTACT, CONTACT_PHONE])  # not Bo's contact
    assert {p["status"] for p in listed} == {"pending"}

    # The contact accepts: they are no longer waited for.
    assert messaging_post(ButtonPayload="ACCEPTED", ButtonText="VOICE_CALL_REQUEST", Body="VOICE_CALL_REQUEST",
                          MessageType="interactive").status_code == 200
    listed = client.get("/api/permissions/pending", headers=mine).json["permissions"]
    assert [p["phone"] for p in listed] == [OTHER_CONTACT]
    assert [p["phone"] for p in client.get("/api/permissions/pending", headers=theirs).json["permissions"]] \
        == ["+447911123458"]


def test_pending_needs_a_token(client, db):
    assert client.get("/api/permissions/pending").status_code == 401


def test_status_says_when_a_full_daily_cap_frees_up_and_the_limits(client, auth_headers, grant_permission, app):
    from datetime import timedelta

    from widget_app.models import Call
    grant_permission()
    now = utcnow()
    answered = [now - timedelta(hours=h) for h in (20, 10, 5, 3, 1)]
    for at in answered:
        Call.create(direction="outbound", to_number=CONTACT_PHONE, from_number="+15550001111", status="completed",
                    started_at=at, answered_at=at, ended_at=at + timedelta(minutes=2))
    permission = client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=auth_headers).json["permission"]
    assert permission["can_call"] is False and permission["call_code"] == "call_limit_reached"
    assert permission["call_changes_at"] == isoformat(answered[0] + timedelta(hours=24))  # the oldest one drops out
    assert permission["connected_calls_per_day"] == 5 and permission["missed_before_revoke"] == 4
