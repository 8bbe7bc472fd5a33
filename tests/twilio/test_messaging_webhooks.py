"""/twilio/messaging (permission replies) and /twilio/messaging/status, signed like Twilio; demo round trip."""
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import CONTACT_PHONE, TEST_SETTINGS, wait_for
from widget_app.core.clock import isoformat
from widget_app.models import Permission, PermissionRequest, WebhookEvent


@pytest.fixture
def asked(client, auth_headers, twilio_messages):
    """A permission request Twilio accepted (queued); returns its MessageSid."""
    assert client.post("/api/permissions/request", json={"phone": CONTACT_PHONE}, headers=auth_headers).status_code == 202
    return PermissionRequest.get(PermissionRequest.kind == "request").message_sid


def permission(client, auth_headers):
    return client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=auth_headers).json["permission"]


def status_callback(twilio_post, sid, status, **extra):
    params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
              "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{TEST_SETTINGS['TWILIO_WHATSAPP_NUMBER']}",
              "To": f"whatsapp:{CONTACT_PHONE}", "ApiVersion": "2010-04-01", "ChannelPrefix": "whatsapp", **extra}
    return twilio_post("/twilio/messaging/status", params)


def twilios_documented_reply(payload: str, phone: str = CONTACT_PHONE, sid: str = "SM" + "d" * 32) -> dict:
    """Twilio's documented example body (reference §2.2), field for field, with our numbers."""
    return {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Test Contact", "MessageType": "interactive",
            "SmsSid": sid, "WaId": phone.lstrip("+"), "SmsStatus": "received", "Body": "VOICE_CALL_REQUEST",
            "ButtonText": "VOICE_CALL_REQUEST", "To": f"whatsapp:{TEST_SETTINGS['TWILIO_WHATSAPP_NUMBER']}",
            "ButtonPayload": payload, "ReferralNumMedia": "0", "MessageSid": sid,
            "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{phone}", "ApiVersion": "2010-04-01"}


@pytest.mark.parametrize("payload, status, outcome", [("ACCEPTED", "granted", "accepted"),
                                                      ("REJECTED", "denied", "declined")])
def test_twilios_documented_reply_answers_the_open_request(client, auth_headers, asked, twilio_post, payload, status,
                                                           outcome):
    response = twilio_post("/twilio/messaging", twilios_documented_reply(payload))  # no OriginalRepliedMessageSid
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and response.get_data(as_text=True).endswith("<Response/>")
    now = permission(client, auth_headers)
    assert (now["status"], now["permanent"], now["can_call"]) == (status, False, status == "granted")
    assert PermissionRequest.get(PermissionRequest.message_sid == asked).outcome == outcome
    reply = PermissionRequest.get(PermissionRequest.kind == "reply")
    assert (reply.status, reply.in_reply_to, reply.raw["ButtonPayload"]) == (outcome, asked, payload)


def test_an_accept_is_a_temporary_grant_for_our_window(client, auth_headers, asked, twilio_post):
    twilio_post("/twilio/messaging", twilios_documented_reply("ACCEPTED"))
    now = permission(client, auth_headers)
    granted = datetime.fromisoformat(now["granted_at"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(now["expires_at"].replace("Z", "+00:00"))
    assert expires - granted == timedelta(hours=72)  # PERMISSION_WINDOW_HOURS, within Meta's 7 days


def test_a_decline_blocks_the_next_request_for_a_day(client, auth_headers, asked, twilio_post):
    twilio_post("/twilio/messaging", twilios_documented_reply("REJECTED"))
    now = permission(client, auth_headers)
    assert (now["can_request"], now["request_code"]) == (False, "permission_rate_limited")
    assert "declined less than 24 hours ago" in now["request_reason"]


def test_a_reply_quoting_our_request_closes_that_request(client, auth_headers, asked, twilio_post):
    twilio_post("/twilio/messaging", {**twilios_documented_reply("ACCEPTED"), "OriginalRepliedMessageSid": asked})
    assert PermissionRequest.get(PermissionRequest.message_sid == asked).outcome == "accepted"
    assert permission(client, auth_headers)["status"] == "granted"


def test_an_answer_from_a_contact_we_never_asked_grants_nothing(client, auth_headers, twilio_post, db):
    response = twilio_post("/twilio/messaging", twilios_documented_reply("ACCEPTED"))
    assert response.status_code == 200
    reply = PermissionRequest.get(PermissionRequest.kind == "reply")
    assert (reply.status, reply.outcome, reply.phone) == ("unsolicited", None, CONTACT_PHONE)
    assert permission(client, auth_headers)["status"] == "none"


def test_an_answer_after_the_request_was_answered_grants_nothing_more(client, auth_headers, asked, twilio_post):
    twilio_post("/twilio/messaging", twilios_documented_reply("REJECTED", sid="SM" + "1" * 32))
    twilio_post("/twilio/messaging", twilios_documented_reply("ACCEPTED", sid="SM" + "2" * 32))
    assert permission(client, auth_headers)["status"] == "denied"


@pytest.mark.parametrize("fields", [
    {"ButtonPayload": "ACCEPTED", "ButtonText": "Yes please", "Body": "Yes please"},  # another template's button
    {"Body": "ACCEPTED"},
    {"Body": "VOICE_CALL_REQUEST"},
    {"Body": json.dumps({"response": "accept", "is_permanent": True}), "MessageType": "text"},
    {"Body": json.dumps({"type": "call_permission_reply",
                         "call_permission_reply": {"response": "accept", "is_permanent": True}}), "MessageType": "text"},
])
def test_free_text_and_other_buttons_never_grant(client, auth_headers, asked, messaging_post, fields):
    messaging_post(**fields)
    assert permission(client, auth_headers)["status"] == "pending"
    assert PermissionRequest.get(PermissionRequest.kind == "reply").status == "ignored"


def metas_reply(response: str, source: str = "user_action", context_id: str | None = "wamid.HBgLMTU1NTEyMzQ1NjcVAgARGBI",
                **fields) -> str:
    """Meta's native message for a call permission reply, as a provider would forward it (JSON)."""
    message = {"from": CONTACT_PHONE.lstrip("+"), "id": "wamid.reply", "timestamp": str(int(time.time())),
               "type": "interactive", "interactive": {"type": "call_permission_reply", "call_permission_reply": {
                   "response": response, "response_source": source, **fields}}}
    if context_id:
        message["context"] = {"from": TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"].lstrip("+"), "id": context_id}
    return json.dumps(message)


@pytest.mark.parametrize("field", ["InteractiveData", "Payload"])
def test_metas_temporary_accept_keeps_its_earlier_expiry(client, auth_headers, asked, messaging_post, field):
    expiry = int(time.time()) + 5 * 3600  # earlier than our 72 h window
    messaging_post(MessageType="interactive", **{field: metas_reply("accept", is_permanent=False,
                                                                    expiration_timestamp=expiry)})
    now = permission(client, auth_headers)
    assert now["status"] == "granted"
    assert now["expires_at"] == isoformat(datetime.fromtimestamp(expiry, UTC))


def test_metas_permanent_accept_does_not_expire(client, auth_headers, messaging_post, db):
    """A permanent grant from the business profile comes without a request or context."""
    messaging_post(MessageType="interactive", InteractiveData=metas_reply("accept", context_id=None, is_permanent=True))
    now = permission(client, auth_headers)
    assert (now["status"], now["permanent"], now["expires_at"]) == ("granted", True, None)


def test_metas_automatic_reject_revokes_a_grant(client, auth_headers, asked, twilio_post, messaging_post):
    twilio_post("/twilio/messaging", twilios_documented_reply("ACCEPTED"))
    messaging_post(MessageType="interactive", InteractiveData=metas_reply("reject", source="automatic", context_id=None))
    now = permission(client, auth_headers)
    assert (now["status"], now["can_call"]) == ("revoked", False)
    assert "withdrew" in now["reason"]
    assert PermissionRequest.select().where(PermissionRequest.status == "revoked").count() == 1


def test_metas_automatic_accept_after_a_call_is_a_callback_grant(client, auth_headers, messaging_post, db):
    expiry = int(time.time()) + 24 * 3600
    messaging_post(MessageType="interactive", InteractiveData=metas_reply(
        "accept", source="automatic", context_id="wacid.HBgLMTU1NTEyMzQ1NjcVAgASGCA", expiration_timestamp=expiry))
    now = permission(client, auth_headers)
    assert (now["status"], now["can_call"]) == ("granted", True)
    assert now["expires_at"] == isoformat(datetime.fromtimestamp(expiry, UTC))


def test_the_same_message_sid_twice_changes_nothing(client, auth_headers, asked, twilio_post):
    twilio_post("/twilio/messaging", twilios_documented_reply("ACCEPTED", sid="SM" + "1" * 32))
    granted_at = permission(client, auth_headers)["granted_at"]
    response = twilio_post("/twilio/messaging", twilios_documented_reply("REJECTED", sid="SM" + "1" * 32))
    assert response.status_code == 200
    now = permission(client, auth_headers)
    assert (now["status"], now["granted_at"]) == ("granted", granted_at)
    assert PermissionRequest.select().where(PermissionRequest.kind == "reply").count() == 1
    assert WebhookEvent.select().where(WebhookEvent.key == "twilio-messaging:SM" + "1" * 32).count() == 1


@pytest.mark.parametrize("signature", [None, "d3Jvbmc="])
@pytest.mark.parametrize("path", ["/twilio/messaging", "/twilio/messaging/status"])
def test_unsigned_or_wrongly_signed_is_403_and_changes_nothing(client, auth_headers, asked, twilio_post, path,
                                                              signature):
    before = (PermissionRequest.select().count(), WebhookEvent.select().count())
    params = {"MessageSid": asked if path.endswith("status") else "SM" + "9" * 32, "MessageStatus": "failed",
              "From": f"whatsapp:{CONTACT_PHONE}", "ButtonPayload": "ACCEPTED", "Body": "VOICE_CALL_REQUEST", "MessageType": "interactive"}
    response = twilio_post(path, params, signed=signature is not None, signature=signature)
    assert response.status_code == 403 and response.json["error"]["code"] == "invalid_signature"
    assert (PermissionRequest.select().count(), WebhookEvent.select().count()) == before
    now = permission(client, auth_headers)
    assert (now["status"], now["request_delivery"]) == ("pending", "queued")


def test_a_reply_signed_for_another_url_is_403(client, auth_headers, asked, twilio_post, app):
    from widget_app.twilio.signatures import sign
    params = twilios_documented_reply("ACCEPTED", sid="SM" + "8" * 32)
    wrong = sign(app.config["PUBLIC_BASE_URL"] + "/twilio/voice", params, app.config["TWILIO_AUTH_TOKEN"])
    assert twilio_post("/twilio/messaging", params, signature=wrong).status_code == 403
    assert permission(client, auth_headers)["status"] == "pending"


def test_a_reply_without_message_sid_is_400(twilio_post, db):
    params = {name: value for name, value in twilios_documented_reply("ACCEPTED").items() if "Sid" not in name}
    response = twilio_post("/twilio/messaging", params)
    assert response.status_code == 400 and response.json["error"]["code"] == "missing_field"


def test_delivery_statuses_move_forward_only(client, auth_headers, asked, twilio_post):
    for status in ("sent", "delivered", "read", "delivered", "sent"):
        assert status_callback(twilio_post, asked, status).status_code == 204
    assert PermissionRequest.get(PermissionRequest.message_sid == asked).status == "read"
    assert permission(client, auth_headers)["request_delivery"] == "read"


def test_a_failed_delivery_does_not_count_and_ends_pending(client, auth_headers, asked, twilio_post):
    status_callback(twilio_post, asked, "sent")
    status_callback(twilio_post, asked, "failed", ErrorCode="63003", ErrorMessage="Channel could not find To address")
    row = PermissionRequest.get(PermissionRequest.message_sid == asked)
    assert row.status == "failed" and "63003" in row.error
    now = permission(client, auth_headers)
    assert (now["status"], now["can_request"], now["requests_last_24h"]) == ("none", True, 0)


def test_an_undelivered_request_still_counts_but_is_not_pending(client, auth_headers, asked, twilio_post):
    status_callback(twilio_post, asked, "undelivered", ErrorCode="63024")
    now = permission(client, auth_headers)
    assert (now["status"], now["can_request"], now["requests_last_24h"]) == ("none", False, 1)


def test_a_status_for_someone_elses_message_is_ignored(twilio_post, db):
    assert status_callback(twilio_post, "SM" + "7" * 32, "delivered").status_code == 204
    assert WebhookEvent.select().count() == 0


def test_a_reply_tells_every_widget(client, agent, asked, twilio_post, socket_inbox):
    inbox = socket_inbox(agent)
    twilio_post("/twilio/messaging", twilios_documented_reply("ACCEPTED"))
    assert inbox[-1]["type"] == "permission_updated" and inbox[-1]["permission"]["status"] == "granted"


# --- demo mode: the simulated Twilio cloud and the contact's buttons ------------------------------

@pytest.fixture
def demo(make_app, db, agent, headers_for):
    """A demo-mode app whose Twilio cloud answers in-process; its client and headers for `agent`."""
    demo_app = make_app(WIDGET_MODE="demo", DEMO_MESSAGING_DELAY=0.01)
    return demo_app, demo_app.test_client(), headers_for(agent, demo_app)



@pytest.mark.parametrize("answer, status, permanent", [("accept", "granted", False), ("decline", "denied", False)])
def test_demo_round_trip(demo, answer, status, permanent):
    app, client, headers = demo
    response = client.post("/api/permissions/request", json={"phone": CONTACT_PHONE}, headers=headers)
    assert response.status_code == 202
    sid = PermissionRequest.get(PermissionRequest.kind == "request").message_sid
    assert sid.startswith("SM")
    assert wait_for(lambda: PermissionRequest.get(PermissionRequest.message_sid == sid).status == "delivered")
    response = client.post("/dev/api/contact/permission-reply", json={"phone": CONTACT_PHONE, "answer": answer})
    assert response.status_code == 200
    assert (response.json["permission"]["status"], response.json["permission"]["permanent"]) == (status, permanent)
    reply = PermissionRequest.get(PermissionRequest.kind == "reply")
    assert reply.in_reply_to == sid
    assert reply.raw == {**twilios_documented_reply(reply.raw["ButtonPayload"], sid=reply.message_sid),
                         "ProfileName": "Dana Demo"}  # exactly Twilio's documented form
    assert Permission.get(Permission.phone == CONTACT_PHONE).status == status


def test_demo_messages_api_answers_like_twilio(demo):
    app, _, _ = demo
    from widget_app.twilio.client import twilio_client
    with app.app_context():
        message = twilio_client().messages.create(to=f"whatsapp:{CONTACT_PHONE}",
                                                  from_=f"whatsapp:{app.config['TWILIO_WHATSAPP_NUMBER']}",
                                                  content_sid="HX" + "1" * 32)
        assert (message.status, message.direction, message.to) == ("queued", "outbound-api", f"whatsapp:{CONTACT_PHONE}")
        with pytest.raises(Exception) as refused:
            twilio_client().messages.create(to=f"whatsapp:{CONTACT_PHONE}", from_="whatsapp:+15550001111",
                                            content_sid="HX" + "1" * 32)
    assert refused.value.code == 63007


def test_demo_reply_rejects_an_unknown_answer(demo):
    _, client, _ = demo
    response = client.post("/dev/api/contact/permission-reply", json={"phone": CONTACT_PHONE, "answer": "maybe"})
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_field"


def test_demo_reply_endpoint_is_absent_in_live_mode(client, db):
    response = client.post("/dev/api/contact/permission-reply", json={"phone": CONTACT_PHONE, "answer": "accept"})
    assert response.status_code == 404
