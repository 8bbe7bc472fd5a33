"""An agent is linked to a HubSpot owner only when HubSpot confirms it is theirs or an admin sets it, and only
in a portal this deployment serves: nobody takes another agent's inbound calls (issue 12, item 3)."""
from datetime import timedelta

import pytest
from responses import matchers

from tests.helpers import HUBSPOT_API
from widget_app.core.clock import utcnow
from widget_app.models import Agent, Portal

CONTEXT = "/api/auth/hubspot-context"
DETAILS = f"{HUBSPOT_API}/account-info/2026-03/details"
PRIVATE_APP_PORTAL = {"portalId": 62515, "accountType": "STANDARD", "timeZone": "US/Eastern",
                      "companyCurrency": "USD", "additionalCurrencies": [], "utcOffset": "-05:00",
                      "utcOffsetMilliseconds": -18000000, "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"}


def owner(owner_id, email, user_id):
    return {"id": str(owner_id), "email": email, "firstName": "Some", "lastName": "One", "userId": user_id,
            "userIdIncludingInactive": user_id, "type": "PERSON", "createdAt": "2019-10-30T03:30:17.883Z",
            "updatedAt": "2019-12-07T16:50:06.678Z", "archived": False, "teams": []}


def hubspot_has_owner(http_mock, owner_id, email, user_id, token="test-hubspot-token"):
    http_mock.get(f"{HUBSPOT_API}/crm/owners/2026-03/{owner_id}", json=owner(owner_id, email, user_id),
                  match=[matchers.header_matcher({"Authorization": f"Bearer {token}"}),
                         matchers.query_param_matcher({"idProperty": "id"})])


@pytest.fixture
def private_app_portal(http_mock):
    """HUBSPOT_ACCESS_TOKEN (the test settings') belongs to portal 62515."""
    http_mock.get(DETAILS, json=PRIVATE_APP_PORTAL)


@pytest.fixture
def bo(make_agent):
    """Another agent, linked to their own HubSpot owner 789."""
    return make_agent(email="bo@example.com", name="Bo", hubspot_portal_id="62515", hubspot_owner_id="789",
                      hubspot_user_id="456")


def send(client, headers, portal=62515, user=111, owner_id=789):
    return client.post(CONTEXT, json={"portalId": portal, "userId": user, "ownerId": owner_id}, headers=headers)


def test_claiming_another_agents_owner_is_403_and_leaves_them_linked(client, agent, bo, auth_headers, http_mock,
                                                                     private_app_portal):
    hubspot_has_owner(http_mock, 789, "bo@example.com", 456)
    response = send(client, auth_headers, user=456, owner_id=789)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "owner_not_confirmed"
    assert Agent.get_by_id(bo.id).hubspot_owner_id == "789"
    assert Agent.get_by_id(agent.id).hubspot_owner_id is None


def test_an_owner_whose_email_is_mine_links_me_with_hubspots_user_id(client, agent, auth_headers, http_mock,
                                                                     private_app_portal):
    hubspot_has_owner(http_mock, 555, "Ana@Example.com", 42607123)
    response = send(client, auth_headers, user=999, owner_id=555)
    assert response.status_code == 200, response.get_json()
    stored = Agent.get_by_id(agent.id)
    assert (stored.hubspot_portal_id, stored.hubspot_owner_id, stored.hubspot_user_id) == ("62515", "555", "42607123")


def test_an_owner_hubspot_does_not_know_is_403(client, agent, auth_headers, http_mock, private_app_portal):
    http_mock.get(f"{HUBSPOT_API}/crm/owners/2026-03/555", status=404,
                  json={"status": "error", "message": "Resource not found", "category": "OBJECT_NOT_FOUND",
                        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf"})
    assert send(client, auth_headers, owner_id=555).status_code == 403
    assert Agent.get_by_id(agent.id).hubspot_owner_id is None


def test_a_portal_this_deployment_does_not_serve_is_403(client, agent, auth_headers, http_mock, private_app_portal):
    response = send(client, auth_headers, portal=666, owner_id=555)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "portal_not_served"
    assert [c.request.url for c in http_mock.calls] == [DETAILS]
    assert Agent.get_by_id(agent.id).hubspot_portal_id is None


def test_an_installed_portal_is_asked_with_its_own_token(client, agent, auth_headers, http_mock):
    Portal.create(portal_id="777", access_token="token-of-777", refresh_token="r", expires_at=utcnow() + timedelta(hours=1))
    hubspot_has_owner(http_mock, 555, "ana@example.com", 1, token="token-of-777")
    assert send(client, auth_headers, portal=777, owner_id=555).status_code == 200
    assert Agent.get_by_id(agent.id).hubspot_portal_id == "777"


def test_hubspot_down_is_a_502_and_links_nothing(client, agent, auth_headers, http_mock, private_app_portal,
                                                hubspot_sleeps):
    http_mock.get(f"{HUBSPOT_API}/crm/owners/2026-03/555", status=503, json={"status": "error", "message": "down"})
    response = send(client, auth_headers, owner_id=555)
    assert response.status_code == 502 and response.get_json()["error"]["code"] == "hubspot_error"
    assert Agent.get_by_id(agent.id).hubspot_owner_id is None


def test_an_owner_set_by_an_admin_needs_no_confirmation(client, runner, agent, bo, auth_headers, http_mock,
                                                        private_app_portal):
    result = runner.invoke(args=["agents", "set-owner", "--email", agent.email, "--owner", "789"])
    assert result.exit_code == 0, result.output
    assert Agent.get_by_id(bo.id).hubspot_owner_id is None  # one owner routes to one agent
    assert send(client, auth_headers, owner_id=789).status_code == 200
    assert [c.request.url for c in http_mock.calls] == [DETAILS]  # the portal is checked, the owner is not
    assert Agent.get_by_id(agent.id).hubspot_owner_id == "789"


@pytest.mark.parametrize("owner_id", ["²", "12a", "1" * 50, "-5"])
def test_set_owner_refuses_an_id_that_is_not_digits(runner, agent, owner_id):
    result = runner.invoke(args=["agents", "set-owner", "--email", agent.email, "--owner", owner_id])
    assert result.exit_code != 0 and Agent.get_by_id(agent.id).hubspot_owner_id is None


def test_set_owner_of_an_unknown_agent_fails(runner, db):
    result = runner.invoke(args=["agents", "set-owner", "--email", "nobody@example.com", "--owner", "789"])
    assert result.exit_code == 1 and "No agent" in result.output
