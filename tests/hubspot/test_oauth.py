"""OAuth install per portal: signed state bound to the browser, code exchange, early refresh, reinstall."""
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from freezegun import freeze_time
from responses import matchers

from tests.helpers import HUBSPOT_API, PUBLIC_BASE_URL
from widget_app.core.clock import utcnow
from widget_app.hubspot.client import HubSpotError
from widget_app.hubspot.engagements import drain, enqueue_call_sync
from widget_app.hubspot.portals import hubspot_client
from widget_app.models import EngagementSync, Portal

TOKEN_URL = f"{HUBSPOT_API}/oauth/2026-03/token"
REDIRECT_URI = f"{PUBLIC_BASE_URL}/hubspot/oauth/callback"
TOKENS = {"token_type": "bearer", "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
          "access_token": "CN2zlYnmLBICAQIYgZXFLyCWp1Yoy_9GMhkAgddk", "expires_in": 1800}
INTROSPECT_URL = f"{HUBSPOT_API}/oauth/2026-03/token/introspect"
# token/introspect's answer for an active access token (reference §4.2)
TOKEN_INFO = {"active": True, "app_id": 123456, "client_id": "test-client-id", "expires_in": 1799, "hub_id": 62515,
              "scopes": ["oauth", "crm.objects.contacts.read"], "token_type": "bearer", "token_use": "access_token",
              "user_id": 42607123}
DEAD_REFRESH = {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token",
                "correlationId": "f5a1b9c2-0000-4000-8000-000000000000"}


@pytest.fixture(autouse=True)
def admin(make_agent):
    """The deployment's admin: only they start an install."""
    return make_agent(email="root@example.com", name="Root", password="admin password", role="admin")


def start_install(client):
    """Sign in on /hubspot/oauth/install as the admin's browser does; returns HubSpot's authorize query."""
    response = client.post("/hubspot/oauth/install", data={"email": "root@example.com", "password": "admin password"},
                           base_url=PUBLIC_BASE_URL)
    assert response.status_code == 302
    location = urlparse(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://app.hubspot.com/oauth/authorize"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_install_redirects_to_hubspot_with_scopes_redirect_and_state(client):
    query = start_install(client)
    assert query["client_id"] == "test-client-id"
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "oauth crm.objects.contacts.read crm.objects.contacts.write crm.objects.owners.read"
    assert len(query["state"]) > 20


def test_callback_exchanges_the_code_and_stores_the_portal_tokens(client, db, http_mock):
    http_mock.post(TOKEN_URL, json=TOKENS, match=[matchers.urlencoded_params_matcher({
        "grant_type": "authorization_code", "client_id": "test-client-id", "client_secret": "test-client-secret",
        "redirect_uri": REDIRECT_URI, "code": "code-from-hubspot"})])
    http_mock.post(INTROSPECT_URL, json=TOKEN_INFO, match=[matchers.urlencoded_params_matcher({
        "token": TOKENS["access_token"], "token_type_hint": "access_token", "client_id": "test-client-id",
        "client_secret": "test-client-secret"})])
    with freeze_time("2025-05-01 12:00:00"):
        state = start_install(client)["state"]
        response = client.get(f"/hubspot/oauth/callback?code=code-from-hubspot&state={state}",
                              base_url=PUBLIC_BASE_URL)
        assert response.status_code == 200 and b"62515" in response.data
        portal = Portal.get(Portal.portal_id == "62515")
        assert portal.access_token == TOKENS["access_token"] and portal.refresh_token == TOKENS["refresh_token"]
        assert portal.expires_at == utcnow() + timedelta(seconds=1800) and not portal.needs_reinstall


def test_a_token_answer_that_names_its_portal_needs_no_introspection(client, db, http_mock):
    http_mock.post(TOKEN_URL, json={**TOKENS, "hub_id": 62515, "token_use": "access_token"})
    state = start_install(client)["state"]
    response = client.get(f"/hubspot/oauth/callback?code=code-from-hubspot&state={state}", base_url=PUBLIC_BASE_URL)
    assert response.status_code == 200
    assert [c.request.url for c in http_mock.calls] == [TOKEN_URL]
    assert Portal.get(Portal.portal_id == "62515").access_token == TOKENS["access_token"]


@pytest.mark.parametrize("state", ["forged", None])
def test_callback_with_a_bad_state_is_400_and_changes_nothing(client, db, http_mock, state):
    start_install(client)
    query = "code=abc" + (f"&state={state}" if state else "")
    response = client.get(f"/hubspot/oauth/callback?{query}", base_url=PUBLIC_BASE_URL)
    assert response.status_code == 400 and response.get_json()["error"]["code"] in ("invalid_state", "invalid_request")
    assert len(http_mock.calls) == 0 and Portal.select().count() == 0


def test_a_valid_state_from_another_browser_is_rejected(app, client, db, http_mock):
    state = start_install(client)["state"]
    other_browser = app.test_client()
    response = other_browser.get(f"/hubspot/oauth/callback?code=abc&state={state}", base_url=PUBLIC_BASE_URL)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_state"
    assert len(http_mock.calls) == 0


def test_an_expired_state_is_rejected(client, db, http_mock):
    with freeze_time("2025-05-01 12:00:00") as clock:
        state = start_install(client)["state"]
        clock.tick(timedelta(minutes=11))
        response = client.get(f"/hubspot/oauth/callback?code=abc&state={state}", base_url=PUBLIC_BASE_URL)
    assert response.status_code == 400 and len(http_mock.calls) == 0


def make_portal(expires_in_minutes, **fields):
    return Portal.create(portal_id="62515", access_token="old-access", refresh_token="refresh-1",
                         expires_at=utcnow() + timedelta(minutes=expires_in_minutes), **fields)


def test_token_is_refreshed_before_it_expires(app_ctx, http_mock):
    make_portal(expires_in_minutes=2)
    http_mock.post(TOKEN_URL, json={**TOKENS, "access_token": "new-access"}, match=[matchers.urlencoded_params_matcher({
        "grant_type": "refresh_token", "client_id": "test-client-id", "client_secret": "test-client-secret",
        "redirect_uri": REDIRECT_URI, "refresh_token": "refresh-1"})])
    http_mock.get(f"{HUBSPOT_API}/crm/owners/2026-03", json={"results": []},
                  match=[matchers.header_matcher({"Authorization": "Bearer new-access"})])
    hubspot_client("62515").request("GET", "/crm/owners/2026-03")
    assert Portal.get(Portal.portal_id == "62515").access_token == "new-access"


def test_a_fresh_token_is_used_as_is(app_ctx, http_mock):
    make_portal(expires_in_minutes=25)
    http_mock.get(f"{HUBSPOT_API}/crm/owners/2026-03", json={"results": []},
                  match=[matchers.header_matcher({"Authorization": "Bearer old-access"})])
    hubspot_client("62515").request("GET", "/crm/owners/2026-03")
    assert [c.request.url for c in http_mock.calls] == [f"{HUBSPOT_API}/crm/owners/2026-03"]


def test_a_dead_refresh_token_marks_the_portal_for_reinstall(app_ctx, http_mock):
    make_portal(expires_in_minutes=-1)
    http_mock.post(TOKEN_URL, status=400, json=DEAD_REFRESH)
    with pytest.raises(HubSpotError) as caught:
        hubspot_client("62515").request("GET", "/crm/owners/2026-03")
    assert caught.value.code == "reinstall_required" and not caught.value.transient
    assert "reinstall" in str(caught.value)
    assert Portal.get(Portal.portal_id == "62515").needs_reinstall
    with pytest.raises(HubSpotError):  # no more refresh attempts until someone reinstalls
        hubspot_client("62515").request("GET", "/crm/owners/2026-03")
    assert len(http_mock.calls) == 1


def test_a_call_for_a_portal_needing_reinstall_fails_with_that_reason(app, app_ctx, make_call, http_mock):
    make_portal(expires_in_minutes=-1)
    http_mock.post(TOKEN_URL, status=400, json={"error": "invalid_grant", "error_description": "refresh token revoked"})
    call = make_call(hubspot_portal_id="62515", engagement_id="17591596434")
    enqueue_call_sync(call)
    drain(app)
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "failed" and "reinstall the app" in row.last_error


def test_status_tells_the_widget_when_the_portal_needs_reinstall(client, db, agent, auth_headers):
    agent.hubspot_portal_id = "62515"
    agent.save()
    make_portal(expires_in_minutes=20, needs_reinstall=True)
    body = client.get("/api/hubspot/status", headers=auth_headers).get_json()
    assert body["needs_reinstall"] is True and body["auth"] == "oauth" and body["connected"] is False
    assert body["install_url"] == "/hubspot/oauth/install"


def test_status_needs_a_signed_in_agent(client):
    assert client.get("/api/hubspot/status").status_code == 401
