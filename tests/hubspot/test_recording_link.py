"""HubSpot's GET for a call's authenticated recording link (issue 20, item 4): a valid signature is enough;
unsigned, the path must name the call by its unguessable Twilio CallSid and the query carry our appId and
account. Each case is logged (without the CallSid or any number); the link handed out lives 15 minutes."""
import logging
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.helpers import PUBLIC_BASE_URL, TEST_SETTINGS, TWILIO_API
from widget_app.models import Call

CALL_SID = "CA" + "3f" * 16
ACCOUNT = TEST_SETTINGS["TWILIO_ACCOUNT_SID"]
APP_ID = TEST_SETTINGS["HUBSPOT_APP_ID"]
RE_SID = "RE" + "a" * 32
T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture
def recorded(db, agent):
    return Call.create(direction="outbound", status="completed", from_number="+442071838750", to_number="+447400123456",
                       sid=CALL_SID, agent=agent, hubspot_portal_id="62515", started_at=T0, ended_at=T0,
                       recording_url=f"{TWILIO_API}/Recordings/{RE_SID}", recording_sid=RE_SID)


def query(app_id=APP_ID, account=ACCOUNT, **extra):
    params = {"appId": app_id, "externalAccountId": account, **extra}
    return "&".join(f"{name}={value}" for name, value in params.items() if value is not None)


def link_path(external_id=CALL_SID, **params) -> str:
    wanted = query(**params)
    return f"/hubspot/recordings/{external_id}" + (f"?{wanted}" if wanted else "")


def test_a_signed_get_gets_a_link_and_is_logged_as_signed(hubspot_request, recorded, caplog):
    with caplog.at_level(logging.INFO, logger="widget_app.hubspot.routes"):
        response = hubspot_request("GET", link_path())
    assert response.status_code == 200
    assert response.get_json()["authenticatedUrl"].startswith(f"{PUBLIC_BASE_URL}/hubspot/recordings/{CALL_SID}/audio?token=")
    assert f"recording link for call {recorded.id}: signed v3" in caplog.text


def test_a_signed_get_may_name_the_call_by_our_own_id(hubspot_request, recorded):
    assert hubspot_request("GET", link_path(f"wa-call-{recorded.id}", app_id=None, account=None)).status_code == 200


def test_an_unsigned_get_by_callsid_with_our_app_and_account_gets_a_link_that_lives_15_minutes(
        hubspot_request, client, recorded, caplog):
    with freeze_time(T0) as clock, caplog.at_level(logging.INFO, logger="widget_app.hubspot.routes"):
        response = hubspot_request("GET", link_path(portalId="62515"), signed=False)
        assert response.status_code == 200
        audio = response.get_json()["authenticatedUrl"][len(PUBLIC_BASE_URL):]
        clock.tick(timedelta(minutes=15, seconds=1))
        expired = client.get(audio, base_url=PUBLIC_BASE_URL)
    assert expired.status_code == 403 and expired.get_json()["error"]["code"] == "link_expired"
    assert f"recording link for call {recorded.id}: unsigned, by CallSid with our appId and account" in caplog.text
    assert CALL_SID not in caplog.text and recorded.to_number not in caplog.text


@pytest.mark.parametrize("path, reason", [
    (lambda call: link_path(f"wa-call-{call.id}"), "the id is not a Twilio CallSid"),  # sequential: guessable
    (lambda call: link_path("CA123"), "the id is not a Twilio CallSid"),  # too short to be unguessable
    (lambda call: link_path(app_id=None), "appId is missing or not ours"),
    (lambda call: link_path(app_id="654321"), "appId is missing or not ours"),
    (lambda call: link_path(account=None), "externalAccountId is missing or not ours"),
    (lambda call: link_path(account="AC" + "2" * 32), "externalAccountId is missing or not ours"),
    (lambda call: link_path(portalId="99999"), "portalId is not the call's portal"),
])
def test_an_unsigned_get_without_every_proof_is_refused_and_logged_why(hubspot_request, recorded, caplog, path, reason):
    with caplog.at_level(logging.INFO, logger="widget_app.hubspot.routes"):
        response = hubspot_request("GET", path(recorded), signed=False)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert "authenticatedUrl" not in response.get_data(as_text=True)
    assert f"recording link refused: unsigned request, {reason}" in caplog.text
    assert CALL_SID not in caplog.text and ACCOUNT not in caplog.text


def test_a_badly_signed_get_counts_as_unsigned(hubspot_request, recorded, caplog):
    with caplog.at_level(logging.INFO, logger="widget_app.hubspot.routes"):
        refused = hubspot_request("GET", link_path(account=None), secret="not-our-secret")
        allowed = hubspot_request("GET", link_path(), secret="not-our-secret")
    assert refused.status_code == 401
    assert "recording link refused: badly signed request, externalAccountId is missing or not ours" in caplog.text
    assert allowed.status_code == 200
    assert f"recording link for call {recorded.id}: signature invalid, by CallSid" in caplog.text


def test_an_unsigned_get_for_an_unknown_callsid_is_404_only_after_the_query_proves_ours(hubspot_request, recorded):
    unknown = "CA" + "0" * 32
    assert hubspot_request("GET", link_path(unknown, app_id="654321"), signed=False).status_code == 401
    assert hubspot_request("GET", link_path(unknown), signed=False).status_code == 404
