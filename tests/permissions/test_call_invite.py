"""The call invite (issue 15, item 6): with TWILIO_CALL_INVITE_CONTENT_SID set, a rep sends the contact a
WhatsApp "Call us" template through Twilio's Messages API; it is audited (kind "invite"), limited like
requests (counted apart), asks for no permission, and the permission object says when it went."""
from datetime import timedelta

import pytest
import requests
from freezegun import freeze_time

from tests.helpers import CONTACT_PHONE, PUBLIC_BASE_URL, TEST_SETTINGS, TWILIO_API
from widget_app.core.clock import isoformat, utcnow
from widget_app.models import PermissionRequest

INVITE_SID = "HX" + "c" * 32


@pytest.fixture
def invites_on(app):
    app.config["TWILIO_CALL_INVITE_CONTENT_SID"] = INVITE_SID


def invite(client, headers, phone=CONTACT_PHONE):
    return client.post("/api/permissions/invite", json={"phone": phone}, headers=headers)


def status(client, headers):
    return client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=headers).json["permission"]


def test_the_invite_goes_through_twilio_with_the_call_us_template(client, auth_headers, agent, invites_on,
                                                                  twilio_messages):
    now = utcnow()
    with freeze_time(now):
        response = invite(client, auth_headers)
    assert response.status_code == 202
    [form] = twilio_messages
    assert form["To"] == f"whatsapp:{CONTACT_PHONE}" and form["ContentSid"] == INVITE_SID
    assert form["From"] == f"whatsapp:{TEST_SETTINGS['TWILIO_WHATSAPP_NUMBER']}"
    assert form["StatusCallback"] == f"{PUBLIC_BASE_URL}/twilio/messaging/status"
    row = PermissionRequest.get(PermissionRequest.kind == "invite")
    assert (row.agent_id, row.phone, row.status) == (agent.id, CONTACT_PHONE, "queued") and row.message_sid.startswith("SM")
    permission = response.json["permission"]
    assert permission["invite"]["sent_at"] == isoformat(now)
    assert permission["invite"]["available"] is True and permission["invite"]["can_invite"] is False
    assert (permission["status"], permission["can_request"], permission["requests_last_24h"]) == ("none", True, 0)


def test_without_the_setting_no_invite_is_offered_or_sent(client, auth_headers, twilio_messages):
    assert status(client, auth_headers)["invite"] == {"available": False, "sent_at": None, "delivery": None,
                                                      "can_invite": False, "next_invite_at": None}
    response = invite(client, auth_headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "invite_not_configured"
    assert twilio_messages == [] and PermissionRequest.select().count() == 0


def test_invites_are_limited_like_requests_and_counted_apart(app, client, agent, headers_for, invites_on,
                                                             twilio_messages):
    start = utcnow()
    with freeze_time(start):
        auth_headers = headers_for(agent)
        assert invite(client, auth_headers).status_code == 202
        again = invite(client, auth_headers)
        assert client.post("/api/permissions/request", json={"phone": CONTACT_PHONE},
                           headers=auth_headers).status_code == 202  # a request is still allowed
    assert again.status_code == 429 and again.json["error"]["code"] == "permission_rate_limited"
    assert again.json["error"]["retry_at"] == again.json["error"]["permission"]["invite"]["next_invite_at"]
    with freeze_time(start + timedelta(hours=24, seconds=1)):
        assert invite(client, headers_for(agent)).status_code == 202
    with freeze_time(start + timedelta(hours=48, seconds=2)):
        assert invite(client, headers_for(agent)).status_code == 429  # two a week
    assert PermissionRequest.select().where(PermissionRequest.kind == "invite").count() == 2
    assert len(twilio_messages) == 3


def test_a_refused_invite_is_audited_and_does_not_count(client, auth_headers, invites_on, http_mock):
    http_mock.add("POST", f"{TWILIO_API}/Messages.json", status=400, json={
        "code": 63016, "message": "Failed to send freeform message because you are outside the allowed window.",
        "more_info": "https://www.twilio.com/docs/errors/63016", "status": 400})
    response = invite(client, auth_headers)
    assert response.status_code == 502 and response.json["error"]["twilio_code"] == 63016
    assert PermissionRequest.get(PermissionRequest.kind == "invite").status == "failed"
    assert status(client, auth_headers)["invite"]["can_invite"] is True


def test_an_unreachable_twilio_counts_the_invite(client, auth_headers, invites_on, http_mock):
    http_mock.add("POST", f"{TWILIO_API}/Messages.json", body=requests.ConnectionError("connection reset"))
    assert invite(client, auth_headers).status_code == 502
    assert status(client, auth_headers)["invite"]["can_invite"] is False


def test_an_undelivered_invite_is_audited_and_asks_for_no_permission(client, auth_headers, invites_on, twilio_messages,
                                                                      twilio_post):
    invite(client, auth_headers)
    sid = PermissionRequest.get(PermissionRequest.kind == "invite").message_sid
    answer = twilio_post("/twilio/messaging/status", {"MessageSid": sid, "MessageStatus": "undelivered",
                                                      "ErrorCode": "63024", "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"]})
    assert answer.status_code == 204
    row = PermissionRequest.get(PermissionRequest.kind == "invite")
    assert row.status == "undelivered" and "63024" in row.error
    permission = status(client, auth_headers)
    assert permission["status"] == "none" and permission["invite"]["can_invite"] is True


def test_a_bad_phone_is_a_400(client, auth_headers, invites_on, twilio_messages):
    response = invite(client, auth_headers, phone="not a phone")
    assert response.status_code == 400 and twilio_messages == []


def test_the_invite_needs_a_signed_in_agent(client, invites_on, twilio_messages):
    assert client.post("/api/permissions/invite", json={"phone": CONTACT_PHONE}).status_code == 401
    assert twilio_messages == []
