"""The HubSpot client: Bearer auth, timeouts, 429 waits, backoff on 5xx, HubSpot's errors kept."""
import pytest
import requests
import responses
from responses import matchers

from tests.helpers import HUBSPOT_API
from widget_app.hubspot.client import HubSpotError
from widget_app.hubspot.portals import hubspot_client

CALL_URL = f"{HUBSPOT_API}/crm/objects/2026-03/calls/17591596434"
RATE_LIMITED = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                "errorType": "RATE_LIMIT", "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
                "policyName": "TEN_SECONDLY_ROLLING"}
VALIDATION = {"status": "error", "message": "Property values were not valid: hs_call_status",
              "correlationId": "a43683b0-5717-4ceb-80b4-104d02915d8c", "category": "VALIDATION_ERROR"}
CALL = {"id": "17591596434", "properties": {"hs_call_status": "COMPLETED"}, "createdAt": "2025-05-01T12:00:01.123Z",
        "updatedAt": "2025-05-01T12:00:01.123Z", "archived": False}


def test_sends_the_private_app_token_and_a_timeout(app_ctx, http_mock):
    hs = hubspot_client()
    http_mock.get(CALL_URL, json=CALL, match=[matchers.header_matcher({"Authorization": "Bearer test-hubspot-token"})])
    assert hs.request("GET", "/crm/objects/2026-03/calls/17591596434") == CALL
    assert http_mock.calls[0].request.req_kwargs["timeout"] == (5, 20)


def test_rate_limit_waits_the_interval_hubspot_names_then_succeeds(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    headers = {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"}
    http_mock.patch(CALL_URL, status=429, json=RATE_LIMITED, headers=headers)
    http_mock.patch(CALL_URL, status=429, json=RATE_LIMITED, headers=headers)
    http_mock.patch(CALL_URL, json=CALL)
    assert hs.request("PATCH", "/crm/objects/2026-03/calls/17591596434", json={"properties": {}})["id"] == "17591596434"
    assert hubspot_sleeps == [10.0, 10.0]
    assert len(http_mock.calls) == 3


def test_retry_after_header_wins_when_present(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    http_mock.get(CALL_URL, status=429, json=RATE_LIMITED, headers={"Retry-After": "3"})
    http_mock.get(CALL_URL, json=CALL)
    hs.request("GET", "/crm/objects/2026-03/calls/17591596434")
    assert hubspot_sleeps == [3.0]


def test_a_create_is_retried_after_a_429_because_hubspot_did_nothing(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    http_mock.post(f"{HUBSPOT_API}/crm/objects/2026-03/calls", status=429, json=RATE_LIMITED)
    http_mock.post(f"{HUBSPOT_API}/crm/objects/2026-03/calls", status=201, json=CALL)
    assert hs.request("POST", "/crm/objects/2026-03/calls", json={"properties": {}})["id"] == "17591596434"
    assert hubspot_sleeps == [10.0]


def test_daily_limit_is_not_retried_and_says_when_to_come_back(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    daily = {**RATE_LIMITED, "message": "You have reached your daily limit.", "policyName": "DAILY"}
    http_mock.get(CALL_URL, status=429, json=daily, headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})
    with pytest.raises(HubSpotError) as caught:
        hs.request("GET", "/crm/objects/2026-03/calls/17591596434")
    assert caught.value.transient and caught.value.retry_after >= 3600
    assert hubspot_sleeps == [] and len(http_mock.calls) == 1


def test_server_errors_back_off_exponentially_with_jitter(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    for _ in range(3):
        http_mock.get(CALL_URL, status=503, json={"status": "error", "message": "Service unavailable"})
    http_mock.get(CALL_URL, json=CALL)
    hs.request("GET", "/crm/objects/2026-03/calls/17591596434")
    assert len(hubspot_sleeps) == 3
    for attempt, wait in enumerate(hubspot_sleeps):
        assert 0.25 * 2 ** attempt <= wait <= 0.5 * 2 ** attempt


def test_network_errors_are_retried_then_reported_as_transient(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    http_mock.get(CALL_URL, body=requests.ConnectionError("connection reset"))
    with pytest.raises(HubSpotError) as caught:
        hs.request("GET", "/crm/objects/2026-03/calls/17591596434")
    assert caught.value.transient and caught.value.code == "network_error"
    assert len(http_mock.calls) == 5 and len(hubspot_sleeps) == 4


def test_a_create_is_never_repeated_after_a_server_error(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    http_mock.post(f"{HUBSPOT_API}/crm/objects/2026-03/calls", status=500, json={"status": "error", "message": "boom",
                                                                            "correlationId": "c-1"})
    with pytest.raises(HubSpotError) as caught:
        hs.request("POST", "/crm/objects/2026-03/calls", json={"properties": {}})
    assert caught.value.transient and caught.value.status == 500
    assert len(http_mock.calls) == 1 and hubspot_sleeps == []


def test_other_client_errors_are_permanent_and_keep_hubspots_words(app_ctx, http_mock, hubspot_sleeps):
    hs = hubspot_client()
    http_mock.patch(CALL_URL, status=400, json=VALIDATION)
    with pytest.raises(HubSpotError) as caught:
        hs.request("PATCH", "/crm/objects/2026-03/calls/17591596434", json={"properties": {"hs_call_status": "X"}})
    error = caught.value
    assert not error.transient and error.status == 400 and error.category == "VALIDATION_ERROR"
    assert error.correlation_id == "a43683b0-5717-4ceb-80b4-104d02915d8c"
    assert "Property values were not valid: hs_call_status" in str(error)
    assert "a43683b0-5717-4ceb-80b4-104d02915d8c" in str(error)
    assert len(http_mock.calls) == 1 and hubspot_sleeps == []


def test_without_any_credentials_it_says_hubspot_is_not_connected(make_app, http_mock):
    app = make_app(HUBSPOT_ACCESS_TOKEN="")
    with app.app_context(), pytest.raises(HubSpotError) as caught:
        from widget_app.models import db
        with db.connection_context():
            hubspot_client().request("GET", "/crm/objects/2026-03/calls/1")
    assert caught.value.code == "not_connected" and len(http_mock.calls) == 0


def test_demo_mode_answers_in_process_with_hubspot_shapes(make_app):
    app = make_app(WIDGET_MODE="demo")
    with app.app_context(), responses.RequestsMock() as nothing_leaves:
        from widget_app.models import db
        with db.connection_context():
            hs = hubspot_client()
            created = hs.request("POST", "/crm/objects/2026-03/calls",
                                 json={"properties": {"hs_call_external_id": "wa-call-1"}, "associations": []})
            patched = hs.request("PATCH", f"/crm/objects/2026-03/calls/{created['id']}",
                                 json={"properties": {"hs_call_body": "hi"}})
            owners = hs.request("GET", "/crm/owners/2026-03")
    assert created["id"].isdigit() and created["archived"] is False
    assert patched["properties"]["hs_call_body"] == "hi"
    assert owners["results"][0]["id"] == "789"
    assert len(nothing_leaves.calls) == 0
