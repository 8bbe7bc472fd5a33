"""/twilio/messaging (permission replies) and /twilio/messaging/status, signed like Twilio; demo round trip."""
import json
import time
from datetime import UTC, datetime

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


@pytest.mark.parametrize("payload, status, permanent", [("PERMISSION_ACCEPT", "granted", False),
                                                        ("PERMISSION_ACCEPT_PERMANENT", "granted", True),
                                                        ("PERMISSION_REJECT", "denied", False)])
def test_quick_reply_buttons_answer_the_request(client, auth_headers, asked, messaging_post, payload, status, permanent):
    response = messaging_post(ButtonPayload=payload, ButtonText="x", MessageType="button",
                              OriginalRepliedMessageSid=asked)
    assert response.status_code == 200
    assert response.mimetype == "text/xml" and response.get_data(as_text=True).endswith("<Response/>")
    now = permission(client, auth_headers)
    assert (now["status"], now["permanent"], now["can_call"]) == (status, permanent, status == "granted")
    request_row = PermissionRequest.get(PermissionRequest.message_sid == asked)
    assert request_row.outcome == ("declined" if status == "denied" else "accepted")
    reply = PermissionRequest.get(PermissionRequest.kind == "reply")
    assert reply.in_reply_to == asked and reply.raw["ButtonPayload"] == payload


@pytest.mark.parametrize("field", ["InteractiveData", "Payload", "ButtonPayload", "Body"])
def test_metas_call_permission_reply_in_any_json_field(client, auth_headers, asked, messaging_post, field):
    expiry = int(time.time()) + 5 * 3600  # earlier than our 72 h window
    data = {"type": "interactive", "interactive": {"type": "call_permission_reply", "call_permission_reply": {
        "response": "accept", "is_permanent": False, "response_source": "user_action", "expiration_timestamp": expiry}}}
    messaging_post(MessageType="interactive", **{field: json.dumps(data)})
    now = permission(client, auth_headers)
    assert now["status"] == "granted"
    assert now["expires_at"] == isoformat(datetime.fromtimestamp(expiry, UTC))


def test_flat_permission_fields_are_understood(client, auth_headers, asked, messaging_post):
    messaging_post(MessageType="interactive", CallPermissionReplyResponse="reject")
    assert permission(client, auth_headers)["status"] == "denied"


def test_permanent_reply_as_json(client, auth_headers, asked, messaging_post):
    data = {"call_permission_reply": {"response": "accept", "is_permanent": True}}
    messaging_post(MessageType="interactive", InteractiveData=json.dumps(data))
    now = permission(client, auth_headers)
    assert (now["status"], now["permanent"], now["expires_at"]) == ("granted", True, None)


def test_button_words_count_only_on_our_own_request(client, auth_headers, asked, messaging_post):
    messaging_post(MessageType="button", ButtonText="Always allow calls", Body="Always allow calls")
    assert permission(client, auth_headers)["status"] == "pending"  # not a reply to our message: ignored
    messaging_post(MessageType="button", ButtonText="Always allow calls", OriginalRepliedMessageSid=asked)
    now = permission(client, auth_headers)
    assert (now["status"], now["permanent"]) == ("granted", True)


def test_an_unknown_message_is_stored_and_ignored(client, auth_headers, asked, messaging_post):
    response = messaging_post(Body="Hi, who is this?", MessageType="text")
    assert response.status_code == 200 and "<Response/>" in response.get_data(as_text=True)
    reply = PermissionRequest.get(PermissionRequest.kind == "reply")
    assert (reply.status, reply.raw["Body"], reply.phone) == ("ignored", "Hi, who is this?", CONTACT_PHONE)
    assert permission(client, auth_headers)["status"] == "pending"


def test_the_same_message_sid_twice_changes_nothing(client, auth_headers, asked, messaging_post):
    messaging_post(MessageSid="SM" + "1" * 32, ButtonPayload="PERMISSION_ACCEPT", MessageType="button")
    granted_at = permission(client, auth_headers)["granted_at"]
    response = messaging_post(MessageSid="SM" + "1" * 32, ButtonPayload="PERMISSION_REJECT", MessageType="button")
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
              "From": f"whatsapp:{CONTACT_PHONE}", "ButtonPayload": "PERMISSION_ACCEPT", "MessageType": "button"}
    response = twilio_post(path, params, signed=signature is not None, signature=signature)
    assert response.status_code == 403 and response.json["error"]["code"] == "invalid_signature"
    assert (PermissionRequest.select().count(), WebhookEvent.select().count()) == before
    now = permission(client, auth_headers)
    assert (now["status"], now["request_delivery"]) == ("pending", "queued")


def test_a_reply_signed_for_another_url_is_403(client, auth_headers, asked, twilio_post, app):
    from widget_app.twilio.signatures import sign
    params = {"MessageSid": "SM" + "8" * 32, "From": f"whatsapp:{CONTACT_PHONE}", "ButtonPayload": "PERMISSION_ACCEPT"}
    wrong = sign(app.config["PUBLIC_BASE_URL"] + "/twilio/voice", params, app.config["TWILIO_AUTH_TOKEN"])
    assert twilio_post("/twilio/messaging", params, signature=wrong).status_code == 403
    assert permission(client, auth_headers)["status"] == "pending"


def test_a_reply_without_message_sid_is_400(twilio_post, db):
    response = twilio_post("/twilio/messaging", {"From": f"whatsapp:{CONTACT_PHONE}", "ButtonPayload": "PERMISSION_ACCEPT"})
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


def test_a_reply_tells_every_widget(client, agent, asked, messaging_post, socket_inbox):
    inbox = socket_inbox(agent)
    messaging_post(ButtonPayload="PERMISSION_ACCEPT", MessageType="button")
    assert inbox[-1]["type"] == "permission_updated" and inbox[-1]["permission"]["status"] == "granted"


# --- demo mode: the simulated Twilio cloud and the contact's buttons ------------------------------

@pytest.fixture
def demo(make_app, db, agent, headers_for):
    """A demo-mode app whose Twilio cloud answers in-process; its client and headers for `agent`."""
    demo_app = make_app(WIDGET_MODE="demo", DEMO_MESSAGING_DELAY=0.01)
    return demo_app, demo_app.test_client(), headers_for(agent, demo_app)



@pytest.mark.parametrize("answer, status, permanent", [("accept", "granted", False),
                                                      ("accept_permanent", "granted", True),
                                                      ("decline", "denied", False)])
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
    assert reply.in_reply_to == sid and reply.raw["MessageType"] == "button"
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
