"""POST /hubspot/channel-connection: HubSpot's help desk lists the numbers a user may connect."""
import time

import pytest

from widget_app.models import PhoneNumber

BODY = {"appId": 123456, "portalId": 62515, "userId": 987654}
PATH = "/hubspot/channel-connection"


def test_lists_our_senders_default_first_with_names_cut_to_24_characters(hubspot_request, db, app):
    PhoneNumber.create(e164="+5511999990000", friendly_name="São Paulo support line for WhatsApp")
    PhoneNumber.create(e164="+442071838750", friendly_name="London", is_default=True)
    response = hubspot_request("POST", PATH, BODY)
    assert response.status_code == 200
    assert response.get_json() == {"phoneNumbers": [
        {"e164PhoneNumber": "+442071838750", "extension": "", "friendlyName": "London"},
        {"e164PhoneNumber": "+5511999990000", "extension": "", "friendlyName": "São Paulo support line f"},
    ]}
    assert len(response.get_json()["phoneNumbers"][1]["friendlyName"]) == 24


def test_with_no_numbers_stored_the_configured_sender_is_offered(hubspot_request, db, app):
    response = hubspot_request("POST", PATH, BODY)
    assert response.status_code == 200
    [number] = response.get_json()["phoneNumbers"]
    assert number["e164PhoneNumber"] == app.config["TWILIO_WHATSAPP_NUMBER"]
    assert number["extension"] == ""
    assert 0 < len(number["friendlyName"]) <= 24


@pytest.mark.parametrize("age_ms", [300_001, 3_600_000, -60_000])
def test_stale_or_future_timestamps_get_401_and_no_numbers(hubspot_request, db, age_ms):
    PhoneNumber.create(e164="+442071838750", friendly_name="London", is_default=True)
    response = hubspot_request("POST", PATH, BODY, timestamp_ms=int(time.time() * 1000) - age_ms)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_signature"
    assert b"+44" not in response.data


def test_signed_with_another_secret_or_unsigned_gets_401(hubspot_request, db):
    assert hubspot_request("POST", PATH, BODY, secret="someone-elses-secret").status_code == 401
    assert hubspot_request("POST", PATH, BODY, signed=False).status_code == 401


def test_a_signed_body_cannot_be_swapped(client, hubspot_request, app, db):
    signed = hubspot_request("POST", PATH, BODY)
    assert signed.status_code == 200
    from tests.helpers import hubspot_v3_signature
    ts = str(int(time.time() * 1000))
    signature = hubspot_v3_signature(app.config["HUBSPOT_CLIENT_SECRET"], "POST",
                                     app.config["PUBLIC_BASE_URL"] + PATH, '{"appId":1}', ts)
    response = client.post(PATH, data='{"appId":2,"portalId":3,"userId":4}', content_type="application/json",
                           headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": ts},
                           base_url=app.config["PUBLIC_BASE_URL"])
    assert response.status_code == 401


@pytest.mark.parametrize("body, field", [
    ({"portalId": 62515, "userId": 987654}, "appId"),
    ({"appId": 123456, "userId": 987654}, "portalId"),
    ({"appId": 123456, "portalId": 62515}, "userId"),
    ({"appId": "abc", "portalId": 62515, "userId": 987654}, "appId"),
    ({"appId": 123456, "portalId": True, "userId": 987654}, "portalId"),
    ({"appId": 123456, "portalId": 62515, "userId": 1.5}, "userId"),
])
def test_signed_but_malformed_bodies_get_400_naming_the_field(hubspot_request, db, body, field):
    response = hubspot_request("POST", PATH, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


def test_signed_body_that_is_not_json_gets_400(hubspot_request, db):
    response = hubspot_request("POST", PATH, "appId=1")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_json"


def test_only_post_is_served(hubspot_request, db):
    assert hubspot_request("GET", PATH).status_code == 405
