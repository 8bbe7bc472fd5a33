"""Installing the app in a HubSpot portal is an admin's act, bound to that admin, and a call is logged to
its own portal or nowhere: no "latest install" serves a call that came from no portal (issue 12, item 1)."""
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from responses import matchers

from tests.helpers import HUBSPOT_API, PUBLIC_BASE_URL
from widget_app.agents.accounts import create_agent
from widget_app.core.clock import utcnow
from widget_app.hubspot.engagements import drain, enqueue_call_sync
from widget_app.models import Agent, EngagementSync, Portal

INSTALL = "/hubspot/oauth/install"
TOKEN_URL = f"{HUBSPOT_API}/oauth/2026-03/token"
TOKENS = {"token_type": "bearer", "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
          "access_token": "CN2zlYnmLBICAQIYgZXFLyCWp1Yoy_9GMhkAgddk", "expires_in": 1800}
INTROSPECT_URL = f"{HUBSPOT_API}/oauth/2026-03/token/introspect"
# token/introspect's answer for an active access token (reference §4.2)
TOKEN_INFO = {"active": True, "app_id": 123456, "client_id": "test-client-id", "expires_in": 1799, "hub_id": 62515,
              "scopes": ["oauth", "crm.objects.contacts.read"], "token_type": "bearer", "token_use": "access_token",
              "user_id": 42607123}
PASSWORD = "correct horse"


@pytest.fixture
def admin(make_agent):
    return make_agent(email="root@example.com", name="Root", password=PASSWORD, role="admin")


def start_install(client, email, password=PASSWORD, ip="192.0.2.10"):
    """The admin signs in on our install page (a first-party window) and is sent to HubSpot's consent screen."""
    return client.post(INSTALL, data={"email": email, "password": password}, base_url=PUBLIC_BASE_URL,
                       environ_base={"REMOTE_ADDR": ip})


def authorize_query(response) -> dict:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = urlparse(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "https://app.hubspot.com/oauth/authorize"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def hubspot_answers_the_code(http_mock):
    http_mock.post(TOKEN_URL, json=TOKENS)
    http_mock.post(INTROSPECT_URL, json=TOKEN_INFO, match=[matchers.urlencoded_params_matcher({
        "token": TOKENS["access_token"], "token_type_hint": "access_token", "client_id": "test-client-id",
        "client_secret": "test-client-secret"})])


def test_anyone_opening_the_install_link_gets_a_sign_in_page_not_hubspots_consent_screen(client, db):
    response = client.get(INSTALL, base_url=PUBLIC_BASE_URL)
    assert response.status_code == 200 and "Location" not in response.headers
    assert "hubspot_oauth_nonce" not in response.headers.get("Set-Cookie", "")
    assert b'method="post"' in response.data and b'name="password"' in response.data
    # Browsers hold the form's redirect to HubSpot to form-action too.
    assert "form-action 'self' https://app.hubspot.com;" in response.headers["Content-Security-Policy"]


def test_an_agent_who_is_not_an_admin_cannot_start_an_install(client, agent):
    response = start_install(client, agent.email)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "admin_required"
    assert "hubspot_oauth_nonce" not in response.headers.get("Set-Cookie", "")


def test_a_wrong_password_cannot_start_an_install(client, admin):
    response = start_install(client, admin.email, password="guess")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_credentials"


def test_an_admin_installs_and_the_portal_is_recorded_as_theirs(client, admin, http_mock):
    hubspot_answers_the_code(http_mock)
    state = authorize_query(start_install(client, admin.email))["state"]
    response = client.get(f"/hubspot/oauth/callback?code=code-from-hubspot&state={state}", base_url=PUBLIC_BASE_URL)
    assert response.status_code == 200 and b"62515" in response.data
    assert Portal.get(Portal.portal_id == "62515").installed_by_id == admin.id


def test_the_callback_is_refused_once_the_admin_signed_out(client, admin, http_mock):
    hubspot_answers_the_code(http_mock)
    state = authorize_query(start_install(client, admin.email))["state"]
    Agent.update(token_version=Agent.token_version + 1).where(Agent.id == admin.id).execute()  # signed out
    response = client.get(f"/hubspot/oauth/callback?code=code-from-hubspot&state={state}", base_url=PUBLIC_BASE_URL)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_state"
    assert len(http_mock.calls) == 0 and Portal.select().count() == 0


def test_the_callback_is_refused_when_the_admin_lost_the_role_meanwhile(client, admin, http_mock):
    state = authorize_query(start_install(client, admin.email))["state"]
    Agent.update(role="agent").where(Agent.id == admin.id).execute()
    response = client.get(f"/hubspot/oauth/callback?code=code-from-hubspot&state={state}", base_url=PUBLIC_BASE_URL)
    assert response.status_code == 400 and len(http_mock.calls) == 0 and Portal.select().count() == 0


def test_the_first_agent_of_a_fresh_install_is_an_admin_and_the_next_is_not(app_ctx):
    first = create_agent("first@example.com", "First", "password-1")
    second = create_agent("second@example.com", "Second", "password-2")
    assert (first.role, second.role) == ("admin", "agent")


def test_agents_create_admin_makes_an_admin(runner, agent):
    result = runner.invoke(args=["agents", "create", "--email", "boss@example.com", "--name", "Boss", "--admin"],
                           input="long enough\nlong enough\n")
    assert result.exit_code == 0, result.output
    assert Agent.get(Agent.email == "boss@example.com").role == "admin"
    assert Agent.get_by_id(agent.id).role == "agent"


def _installed(portal_id, token, minutes_ago):
    return Portal.create(portal_id=portal_id, access_token=token, refresh_token="r", needs_reinstall=False,
                         expires_at=utcnow() + timedelta(hours=1), installed_at=utcnow() - timedelta(minutes=minutes_ago))


def test_a_call_from_no_portal_is_not_logged_to_the_latest_install(make_app, make_call, http_mock, hubspot_sleeps):
    app = make_app(HUBSPOT_ACCESS_TOKEN=None)
    app.extensions["hubspot_sleep"] = hubspot_sleeps.append
    with app.app_context():
        _installed("62515", "token-of-the-real-portal", minutes_ago=60)
        _installed("666", "token-of-a-stranger", minutes_ago=1)
        call = make_call(hubspot_portal_id=None, engagement_id="17591596434")
        enqueue_call_sync(call)
    drain(app)
    assert len(http_mock.calls) == 0
    with app.app_context():
        row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "failed" and "portal" in row.last_error


def test_a_call_from_its_portal_is_logged_with_that_portals_token(make_app, make_call, http_mock, hubspot_sleeps):
    app = make_app(HUBSPOT_ACCESS_TOKEN=None)
    app.extensions["hubspot_sleep"] = hubspot_sleeps.append
    with app.app_context():
        _installed("62515", "token-of-the-real-portal", minutes_ago=60)
        _installed("666", "token-of-a-stranger", minutes_ago=1)
        call = make_call(hubspot_portal_id="62515", engagement_id="17591596434")
        enqueue_call_sync(call)
    http_mock.patch(f"{HUBSPOT_API}/crm/objects/2026-03/calls/17591596434", json={"id": "17591596434", "properties": {}},
                    match=[matchers.header_matcher({"Authorization": "Bearer token-of-the-real-portal"})])
    drain(app)
    with app.app_context():
        assert EngagementSync.get(EngagementSync.call == call.id).status == "done"


def test_a_call_from_no_portal_goes_to_the_only_installed_portal(make_app, make_call, http_mock, hubspot_sleeps):
    app = make_app(HUBSPOT_ACCESS_TOKEN=None)
    app.extensions["hubspot_sleep"] = hubspot_sleeps.append
    with app.app_context():
        _installed("62515", "token-of-the-real-portal", minutes_ago=60)
        call = make_call(hubspot_portal_id=None, engagement_id="17591596434")
        enqueue_call_sync(call)
    http_mock.patch(f"{HUBSPOT_API}/crm/objects/2026-03/calls/17591596434", json={"id": "17591596434", "properties": {}},
                    match=[matchers.header_matcher({"Authorization": "Bearer token-of-the-real-portal"})])
    drain(app)
    with app.app_context():
        assert EngagementSync.get(EngagementSync.call == call.id).status == "done"
