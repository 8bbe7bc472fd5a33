"""Callback permission: a contact who calls us in grants a callback (CALLBACK_PERMISSION), with its reason and window."""
from datetime import UTC, datetime, timedelta

import pytest
import responses
from freezegun import freeze_time

from tests.helpers import HUBSPOT_API, TEST_SETTINGS
from widget_app.models import Permission, PermissionRequest

CALLER = "+447400123456"
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WINDOW = timedelta(hours=72)  # PERMISSION_WINDOW_HOURS default, shorter than Meta's 7 days


def inbound_form(sid="CA" + "c" * 32):
    return {"CallSid": sid, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{CALLER}",
            "To": f"whatsapp:{SENDER}", "Caller": f"whatsapp:{CALLER}", "Called": f"whatsapp:{SENDER}",
            "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01"}


@pytest.fixture
def calls_in(http_mock, twilio_post):
    """The contact calls our WhatsApp number (HubSpot does not know them)."""
    http_mock.add(responses.POST, f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search", json={"total": 0, "results": []})

    def call(sid="CA" + "c" * 32):
        assert twilio_post("/twilio/voice", inbound_form(sid)).status_code == 200
    return call


@pytest.fixture
def validate(client, agent, headers_for):
    """Ask /api/permissions/validate as the agent, signed in at the frozen time."""
    def ask():
        response = client.post("/api/permissions/validate", json={"phone": CALLER}, headers=headers_for(agent))
        assert response.status_code == 200
        return response.json
    return ask


@pytest.fixture
def callback_on(app):
    app.config["CALLBACK_PERMISSION"] = True


def test_callback_permission_is_off_by_default(app):
    assert app.config["CALLBACK_PERMISSION"] is False


def test_a_contact_who_called_in_can_be_called_back_at_once_and_until_the_window_ends(
        callback_on, calls_in, validate):
    with freeze_time(T0) as frozen:
        calls_in()
        assert validate()["can_call"] is True
        frozen.move_to(T0 + WINDOW - timedelta(seconds=1))
        assert validate()["can_call"] is True
        frozen.move_to(T0 + WINDOW)
        answer = validate()
    assert answer["can_call"] is False
    assert answer["permission"]["status"] == "expired"


def test_the_callback_grant_says_where_it_came_from_with_metas_window(callback_on, calls_in, validate):
    with freeze_time(T0):
        calls_in()
        permission = validate()["permission"]
    assert permission["granted_by"] == "callback"
    assert permission["grant_reason"] == "The contact called us at 2026-03-02 10:00 UTC."
    assert permission["expires_at"] == "2026-03-05T10:00:00.000Z"
    audit = PermissionRequest.get(PermissionRequest.phone == CALLER)
    assert (audit.kind, audit.status, audit.in_reply_to) == ("callback", "accepted", "CA" + "c" * 32)
    assert audit.expires_at == T0 + timedelta(days=7)  # what Meta gives; our window may be shorter


def test_twilio_retrying_the_inbound_webhook_records_one_grant(callback_on, calls_in, validate):
    with freeze_time(T0):
        calls_in()
        calls_in()
    assert PermissionRequest.select().where(PermissionRequest.kind == "callback").count() == 1


def test_without_callback_permission_a_contact_who_called_in_still_needs_a_request(calls_in, validate):
    with freeze_time(T0):
        calls_in()
        answer = validate()
    assert answer["can_call"] is False
    assert (answer["code"], answer["permission"]["status"]) == ("permission_required", "none")
    assert PermissionRequest.select().count() == 0


def test_a_call_in_never_shortens_a_permanent_grant(callback_on, calls_in, validate, grant_permission):
    with freeze_time(T0):
        grant_permission(phone=CALLER)
        Permission.update(permanent=True, expires_at=None).where(Permission.phone == CALLER).execute()
        calls_in()
    with freeze_time(T0 + timedelta(days=30)):
        permission = validate()["permission"]
    assert permission["permanent"] is True and permission["status"] == "granted"
