"""The inputs that gave 500 in the attack run (issue 12, item 5), one by one: each is now a clear 4xx
(or, for Twilio, a call that is refused in TwiML), and changes nothing."""
import pytest

from tests.helpers import PUBLIC_BASE_URL, hubspot_v3_signature
from widget_app.models import Call, PermissionRequest

DEEP = "[" * 5000 + "]" * 5000


def test_json_nested_5000_deep_at_login_without_a_token_is_400(client):
    response = client.post("/api/auth/login", data='{"email": ' + DEEP + ', "password": "x"}',
                           content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("value", ["\\u0000", "a\\u0000b", "\\ud800", "\\udfff"])
def test_nul_or_a_lone_surrogate_in_a_json_string_is_400(client, auth_headers, value):
    response = client.post("/api/calls/end", data='{"call_id": "' + value + '"}', content_type="application/json",
                           headers=auth_headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("segment", ["%C2%B2", "9" * 5000, "9" * 19], ids=["superscript", "5000-digits", "19-digits"])
def test_a_call_id_in_a_path_that_is_not_ascii_digits_of_a_bounded_length_is_404(client, auth_headers, segment):
    response = client.post(f"/api/calls/{segment}/accept", headers=auth_headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


@pytest.mark.parametrize("query", ["before=%C2%B2", "limit=%C2%B2", "before=" + "9" * 40, "before=%00"],
                         ids=["superscript-before", "superscript-limit", "40-digits", "nul"])
def test_a_history_query_that_is_not_a_bounded_ascii_number_is_400(client, auth_headers, query):
    assert client.get(f"/api/calls?{query}", headers=auth_headers).status_code == 400


def test_nul_in_a_path_is_400(client, auth_headers):
    response = client.get("/api/calls/status/a%00b", headers=auth_headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_request"


def test_an_engagement_id_of_superscript_two_is_400_and_stores_nothing(client, auth_headers, make_call):
    call = make_call()
    response = client.post(f"/api/calls/{call.id}/engagement", json={"engagementId": "²"}, headers=auth_headers)
    assert response.status_code == 400 and response.json["error"]["field"] == "engagementId"
    assert Call.get_by_id(call.id).engagement_id is None


@pytest.mark.parametrize("timestamp", ["²", "9" * 5000], ids=["superscript", "5000-digits"])
def test_a_hubspot_timestamp_that_is_not_ascii_digits_is_401(client, timestamp):
    body = '{"appId":1,"portalId":2,"userId":3}'
    signature = hubspot_v3_signature("test-client-secret", "POST", PUBLIC_BASE_URL + "/hubspot/channel-connection",
                                     body, timestamp)
    response = client.post("/hubspot/channel-connection", data=body, base_url=PUBLIC_BASE_URL, headers={
        "Content-Type": "application/json", "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": timestamp})
    assert response.status_code == 401


def test_a_message_sid_over_255_characters_is_400_and_stores_nothing(messaging_post, db):
    response = messaging_post(MessageSid="SM" + "a" * 300, Body="hello")
    assert response.status_code == 400 and response.json["error"]["field"] == "MessageSid"
    assert PermissionRequest.select().count() == 0


def test_a_call_id_connect_parameter_of_superscript_two_is_refused_in_twiml(twilio_post, agent):
    response = twilio_post("/twilio/voice", {"CallSid": "CA" + "a" * 32, "From": f"client:{agent.voice_identity}",
                                             "To": "+447911123456", "CallId": "²"})
    assert response.status_code == 200 and b"<Hangup" in response.data
