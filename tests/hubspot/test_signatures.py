"""HubSpot request signatures: reference vectors, HubSpot's URI decoding, the official client as a
cross-check, freshness of timestamps, and what a route does with each form."""
import json

import pytest
from freezegun import freeze_time
from hubspot.exceptions import InvalidSignatureTimestampError
from hubspot.utils.signature import Signature

from tests.helpers import PUBLIC_BASE_URL
from widget_app.hubspot.signatures import hubspot_uri, sign_v1, sign_v2, sign_v3, timestamp_is_fresh

DOC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
V1_BODY = ('[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
           '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
           '"changeFlag":"NEW","appId":54321}]')
CHANNEL_BODY = '{"appId":123456,"portalId":62515,"userId":987654}'
NOW_MS = 1_700_000_000_000
NOW = "2023-11-14T22:13:20Z"  # NOW_MS as a date
# A query with escapes HubSpot decodes (%3A %2F %40 %2C) and one it keeps (%20).
ENCODED_PATH = "/hubspot/channel-connection?next=https%3A%2F%2Fapp.hubspot.com%2Fhelp%20desk&who=%40ana%2Cbo"
DECODED_PATH = "/hubspot/channel-connection?next=https://app.hubspot.com/help%20desk&who=@ana,bo"


def test_reference_vectors():
    assert sign_v1(DOC_SECRET, V1_BODY) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert sign_v2(DOC_SECRET, "GET", "https://www.example.com/webhook_uri", "") == \
        "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    assert sign_v2(DOC_SECRET, "POST", "https://www.example.com/webhook_uri", '{"example_field":"example_value"}') == \
        "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
    assert sign_v3(DOC_SECRET, "POST", "https://www.example.com/webhook_uri", "{'example_field':'example_value'}",
                   "15000000") == "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
    assert sign_v3(DOC_SECRET, "POST", "https://example.com/hubspot/channel-connection", CHANNEL_BODY,
                   str(NOW_MS)) == "51/Zpu8tj81bLDRuz0DrYYyvWd56V5kJDkDPPsUw35o="


def test_uri_decoding_follows_hubspots_table_and_keeps_other_escapes():
    assert hubspot_uri(PUBLIC_BASE_URL + ENCODED_PATH) == PUBLIC_BASE_URL + DECODED_PATH
    everything = "%3A%2F%3F%40%21%24%27%28%29%2A%2C%3B"
    assert hubspot_uri(f"https://x.example.com/p?q={everything}") == "https://x.example.com/p?q=:/?@!$'()*,;"
    assert hubspot_uri("https://x.example.com/p?a=%3a%2f") == "https://x.example.com/p?a=:/"  # lower-case too
    assert hubspot_uri("https://x.example.com/p?a=%20%25%26%3D%2B") == "https://x.example.com/p?a=%20%25%26%3D%2B"
    assert hubspot_uri(hubspot_uri(PUBLIC_BASE_URL + ENCODED_PATH)) == PUBLIC_BASE_URL + DECODED_PATH


@pytest.mark.parametrize("method, uri, body", [
    ("POST", "https://www.example.com/webhook_uri", "{'example_field':'example_value'}"),
    ("POST", PUBLIC_BASE_URL + ENCODED_PATH, CHANNEL_BODY),
    ("GET", PUBLIC_BASE_URL + "/hubspot/recordings/CA123?appId=123456&externalAccountId=AC%3Aa%20b", ""),
    ("POST", PUBLIC_BASE_URL + "/hubspot/channel-connection", '{"name":"Zoë ☎"}'),
])
def test_signatures_match_hubspots_official_client(method, uri, body):
    # The official client does not apply the decoding table: it is handed the decoded URI.
    decoded = hubspot_uri(uri)
    assert sign_v3(DOC_SECRET, method, uri, body, str(NOW_MS)) == Signature.get_signature(
        DOC_SECRET, body, "v3", http_uri=decoded, http_method=method, timestamp=str(NOW_MS))
    assert sign_v2(DOC_SECRET, method, uri, body) == Signature.get_signature(
        DOC_SECRET, body, "v2", http_uri=uri, http_method=method)
    assert sign_v1(DOC_SECRET, body) == Signature.get_signature(DOC_SECRET, body, "v1")


def test_official_client_accepts_our_fresh_v3_and_both_refuse_stale():
    with freeze_time(NOW):
        ours = sign_v3(DOC_SECRET, "POST", PUBLIC_BASE_URL + ENCODED_PATH, CHANNEL_BODY, str(NOW_MS))
        assert Signature.is_valid(ours, DOC_SECRET, CHANNEL_BODY, PUBLIC_BASE_URL + DECODED_PATH, "POST",
                                  "v3", str(NOW_MS))
        stale = str(NOW_MS - 300_001)
        assert not timestamp_is_fresh(stale)
        with pytest.raises(InvalidSignatureTimestampError):
            Signature.is_valid(ours, DOC_SECRET, CHANNEL_BODY, PUBLIC_BASE_URL + DECODED_PATH, "POST", "v3", stale)


@pytest.mark.parametrize("timestamp, fresh", [
    (str(NOW_MS), True), (str(NOW_MS - 300_000), True), (str(NOW_MS - 300_001), False),
    (str(NOW_MS + 5_000), True), (str(NOW_MS + 5_001), False), (str(NOW_MS + 3_600_000), False),
    ("", False), (None, False), ("17e11", False), ("-1", False), ("1700000000000.5", False),
])
def test_timestamps_older_than_five_minutes_or_from_the_future_are_stale(timestamp, fresh):
    with freeze_time(NOW):
        assert timestamp_is_fresh(timestamp) is fresh


def _post(client, path, body, headers):
    return client.post(path, data=body, headers={"Content-Type": "application/json", **headers},
                       base_url=PUBLIC_BASE_URL)


def test_route_verifies_v3_over_the_decoded_uri_of_a_percent_encoded_query(client, app):
    secret = app.config["HUBSPOT_CLIENT_SECRET"]
    with freeze_time(NOW):
        official = Signature.get_signature(secret, CHANNEL_BODY, "v3", http_uri=PUBLIC_BASE_URL + DECODED_PATH,
                                           http_method="POST", timestamp=str(NOW_MS))
        ok = _post(client, ENCODED_PATH, CHANNEL_BODY,
                   {"X-HubSpot-Signature-v3": official, "X-HubSpot-Request-Timestamp": str(NOW_MS)})
        undecoded = Signature.get_signature(secret, CHANNEL_BODY, "v3", http_uri=PUBLIC_BASE_URL + ENCODED_PATH,
                                            http_method="POST", timestamp=str(NOW_MS))
        wrong = _post(client, ENCODED_PATH, CHANNEL_BODY,
                      {"X-HubSpot-Signature-v3": undecoded, "X-HubSpot-Request-Timestamp": str(NOW_MS)})
    assert ok.status_code == 200
    assert wrong.status_code == 401


def test_a_captured_v1_or_v2_channel_connection_request_cannot_be_replayed(client, app):
    """HubSpot signs this webhook with v3; v1 and v2 have no timestamp, so a valid one could replay forever."""
    secret = app.config["HUBSPOT_CLIENT_SECRET"]
    v2 = Signature.get_signature(secret, CHANNEL_BODY, "v2", http_uri=PUBLIC_BASE_URL + ENCODED_PATH)
    v1 = Signature.get_signature(secret, CHANNEL_BODY, "v1")
    for signature, version in ((v2, "v2"), (v1, "v1")):
        response = _post(client, ENCODED_PATH, CHANNEL_BODY,
                         {"X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": version})
        assert response.status_code == 401, version


@pytest.mark.parametrize("headers", [
    {},
    {"X-HubSpot-Signature": "0" * 64, "X-HubSpot-Signature-Version": "v1"},
    {"X-HubSpot-Signature": "whatever", "X-HubSpot-Signature-Version": "v9"},
    {"X-HubSpot-Signature-v3": "bm90IGl0", "X-HubSpot-Request-Timestamp": str(NOW_MS)},
])
def test_route_refuses_missing_or_wrong_signatures_alike(client, headers):
    with freeze_time(NOW):
        response = _post(client, "/hubspot/channel-connection", CHANNEL_BODY, headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": "invalid_signature",
                                             "message": "The HubSpot signature is missing, invalid or expired."}}


def test_a_wrong_v3_header_cannot_be_downgraded_to_a_valid_v1(client, app):
    v1 = sign_v1(app.config["HUBSPOT_CLIENT_SECRET"], CHANNEL_BODY)
    with freeze_time(NOW):
        response = _post(client, "/hubspot/channel-connection", CHANNEL_BODY, {
            "X-HubSpot-Signature-v3": "bm90IGl0", "X-HubSpot-Request-Timestamp": str(NOW_MS),
            "X-HubSpot-Signature": v1, "X-HubSpot-Signature-Version": "v1"})
    assert response.status_code == 401


def test_the_signed_body_is_the_raw_body_not_reparsed_json(client, app):
    spaced = json.dumps({"appId": 123456, "portalId": 62515, "userId": 987654}, indent=2)
    secret = app.config["HUBSPOT_CLIENT_SECRET"]
    with freeze_time(NOW):
        uri = PUBLIC_BASE_URL + "/hubspot/channel-connection"
        signature = sign_v3(secret, "POST", uri, spaced, str(NOW_MS))
        response = _post(client, "/hubspot/channel-connection", spaced,
                         {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": str(NOW_MS)})
    assert response.status_code == 200


def test_without_a_client_secret_nothing_is_trusted(make_app):
    app = make_app(HUBSPOT_CLIENT_SECRET=None)
    with freeze_time(NOW):
        signature = sign_v3("", "POST", PUBLIC_BASE_URL + "/hubspot/channel-connection", CHANNEL_BODY, str(NOW_MS))
        response = _post(app.test_client(), "/hubspot/channel-connection", CHANNEL_BODY,
                         {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": str(NOW_MS)})
    assert response.status_code == 401
