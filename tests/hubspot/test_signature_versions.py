"""Which HubSpot signature forms a route takes (issue 12, item 10): v1 and v2 carry no timestamp, so
they count only where HubSpot sends no v3, and anything that looks like v3 is checked for age."""
import time

from tests.helpers import PUBLIC_BASE_URL, TEST_SETTINGS
from widget_app.hubspot.signatures import sign_v1, sign_v2, sign_v3
from widget_app.models import Call

SECRET = TEST_SETTINGS["HUBSPOT_CLIENT_SECRET"]
CHANNEL = "/hubspot/channel-connection"
BODY = '{"appId":123456,"portalId":62515,"userId":987654}'
CALL_SID = "CA" + "b" * 32
STALE_MS = str(int(time.time() * 1000) - 60 * 60 * 1000)  # an hour old


def post_channel(client, headers):
    return client.post(CHANNEL, data=BODY, headers={"Content-Type": "application/json", **headers},
                       base_url=PUBLIC_BASE_URL)


def test_a_captured_v1_channel_connection_request_replayed_later_is_refused(client):
    response = post_channel(client, {"X-HubSpot-Signature": sign_v1(SECRET, BODY), "X-HubSpot-Signature-Version": "v1"})
    assert response.status_code == 401


def test_a_v2_channel_connection_request_without_a_timestamp_is_refused(client):
    signature = sign_v2(SECRET, "POST", PUBLIC_BASE_URL + CHANNEL, BODY)
    response = post_channel(client, {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": "v2"})
    assert response.status_code == 401


def test_a_fresh_v3_channel_connection_request_is_answered(client):
    now = str(int(time.time() * 1000))
    signature = sign_v3(SECRET, "POST", PUBLIC_BASE_URL + CHANNEL, BODY, now)
    response = post_channel(client, {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": now})
    assert response.status_code == 200 and "phoneNumbers" in response.json


def test_a_stale_v3_request_cannot_fall_back_to_its_v2_signature(client, db):
    """The recording link takes v2 (HubSpot may send no v3 there), but a request carrying v3's timestamp
    is a v3 request: it is checked for age, whatever else it carries."""
    Call.create(direction="outbound", status="completed", from_number="+442071838750", to_number="+447911123456",
                sid=CALL_SID, recording_url="https://api.twilio.com/x.wav", recording_sid="RE" + "e" * 32)
    path = f"/hubspot/recordings/{CALL_SID}"
    v2 = sign_v2(SECRET, "GET", PUBLIC_BASE_URL + path, "")
    assert client.get(path, headers={"X-HubSpot-Signature": v2, "X-HubSpot-Signature-Version": "v2"},
                      base_url=PUBLIC_BASE_URL).status_code == 200
    stale = client.get(path, base_url=PUBLIC_BASE_URL, headers={
        "X-HubSpot-Signature": v2, "X-HubSpot-Signature-Version": "v2", "X-HubSpot-Request-Timestamp": STALE_MS,
        "X-HubSpot-Signature-v3": sign_v3(SECRET, "GET", PUBLIC_BASE_URL + path, "", STALE_MS)})
    assert stale.status_code == 401
    without_v3 = client.get(path, base_url=PUBLIC_BASE_URL, headers={
        "X-HubSpot-Signature": v2, "X-HubSpot-Signature-Version": "v2", "X-HubSpot-Request-Timestamp": STALE_MS})
    assert without_v3.status_code == 401
