"""HubSpot ids from the widget are ASCII digits, the portal is the agent's own, and an engagement belongs to
one call: nothing the browser sends chooses a HubSpot URL, a token or someone else's engagement (issue 12, item 2)."""
import threading
from datetime import timedelta

import pytest
import requests
from responses import matchers

from tests.helpers import CONTACT_PHONE, HUBSPOT_API
from widget_app.agents.accounts import issue_token
from widget_app.core.clock import utcnow
from widget_app.hubspot.engagements import drain, enqueue_call_sync
from widget_app.models import Agent, Call, EngagementSync, Portal, db

CALLS = f"{HUBSPOT_API}/crm/objects/2026-03/calls"
TRAVERSAL = "../../contacts/501?archived=true"
BAD_IDS = ["²", "1" * 5000, "-1", "1.5", "0", " 12", "12/34", "%2e%2e", True, 1.5, -3, [1], {"id": 1}]


def initiate(client, headers, **hubspot):
    return client.post("/api/calls/initiate", json={"phone": CONTACT_PHONE, "hubspot": hubspot}, headers=headers)


def engagement_answer(engagement_id):
    return {"id": engagement_id, "properties": {"hs_object_id": engagement_id}, "archived": False,
            "createdAt": "2025-05-01T12:05:00.000Z", "updatedAt": "2025-05-01T12:05:00.000Z"}


def test_an_engagement_id_shaped_like_a_path_is_refused_and_no_call_is_recorded(client, auth_headers, grant_permission):
    grant_permission()
    response = initiate(client, auth_headers, engagementId=TRAVERSAL, objectId=901, objectType="CONTACT")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "engagementId"
    assert Call.select().count() == 0


@pytest.mark.parametrize("field", ["engagementId", "objectId"])
@pytest.mark.parametrize("value", BAD_IDS)
def test_a_hubspot_id_that_is_not_ascii_digits_is_a_400(client, auth_headers, grant_permission, field, value):
    grant_permission()
    response = initiate(client, auth_headers, **{"objectType": "CONTACT", field: value})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"] == {**response.get_json()["error"], "code": "invalid_field", "field": field}
    assert Call.select().count() == 0


@pytest.mark.parametrize("value", ["²", "1" * 5000, TRAVERSAL])
def test_a_callee_id_that_is_not_ascii_digits_is_a_400(client, auth_headers, grant_permission, value):
    grant_permission()
    response = initiate(client, auth_headers, calleeInfo={"calleeId": value, "calleeObjectTypeId": "0-1"})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "calleeId"
    assert Call.select().count() == 0


@pytest.mark.parametrize("value", ["²", "1" * 5000, TRAVERSAL, True, 0])
def test_storing_an_engagement_id_that_is_not_ascii_digits_is_a_400(client, auth_headers, make_call, value):
    call = make_call(initiated=True)
    response = client.post(f"/api/calls/{call.id}/engagement", json={"engagementId": value}, headers=auth_headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "engagementId"
    assert Call.get_by_id(call.id).engagement_id is None


def test_a_stored_engagement_id_shaped_like_a_path_never_reaches_a_hubspot_url(app, app_ctx, make_call, http_mock,
                                                                              hubspot_sleeps):
    call = make_call(engagement_id=TRAVERSAL)  # a row written before ids were checked
    enqueue_call_sync(call)
    drain(app)
    assert [c.request.url for c in http_mock.calls] == []
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "failed" and "engagement id" in row.last_error


def test_another_agents_engagement_id_cannot_be_attached_at_initiate(client, auth_headers, make_agent,
                                                                     grant_permission):
    grant_permission()
    other = make_agent(email="bo@example.com", name="Bo")
    theirs = Call.create(direction="outbound", status="completed", from_number="+442071838750",
                         to_number=CONTACT_PHONE, agent=other, engagement_id="17591596434")
    response = initiate(client, auth_headers, engagementId="17591596434")
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "engagement_in_use"
    assert Call.select().count() == 1 and Call.get_by_id(theirs.id).agent_id == other.id


def test_another_agents_engagement_id_cannot_be_attached_to_my_call(client, auth_headers, make_agent, make_call):
    other = make_agent(email="bo@example.com", name="Bo")
    Call.create(direction="outbound", status="completed", from_number="+442071838750", to_number=CONTACT_PHONE,
                agent=other, engagement_id="17591596434")
    mine = make_call(initiated=True)
    response = client.post(f"/api/calls/{mine.id}/engagement", json={"engagementId": 17591596434},
                           headers=auth_headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "engagement_in_use"
    assert Call.get_by_id(mine.id).engagement_id is None


def test_storing_my_calls_own_engagement_id_again_is_fine(client, auth_headers, make_call):
    mine = make_call(initiated=True, engagement_id="555")
    response = client.post(f"/api/calls/{mine.id}/engagement", json={"engagementId": "555"}, headers=auth_headers)
    assert response.status_code == 200 and response.get_json()["call"]["engagement_id"] == "555"


def _portal(portal_id, token):
    return Portal.create(portal_id=portal_id, access_token=token, refresh_token="r-" + portal_id,
                         expires_at=utcnow() + timedelta(hours=1))


def test_a_portal_id_from_the_browser_does_not_choose_the_token_a_call_is_written_with(
        app, client, agent, auth_headers, grant_permission, http_mock, hubspot_sleeps):
    agent.hubspot_portal_id = "123"
    agent.save()
    _portal("123", "token-of-123")
    _portal("666", "token-of-666")
    grant_permission()
    response = initiate(client, auth_headers, engagementId=555, portalId=666, objectId=901, objectType="CONTACT")
    assert response.status_code == 201, response.get_json()
    call = Call.get_by_id(response.get_json()["call"]["id"])
    assert call.hubspot_portal_id == "123"
    http_mock.patch(f"{CALLS}/555", json=engagement_answer("555"),
                    match=[matchers.header_matcher({"Authorization": "Bearer token-of-123"})])
    assert client.post(f"/api/calls/{call.id}/complete", json={"notes": "hi"}, headers=auth_headers).status_code == 202
    drain(app)
    assert [c.request.url for c in http_mock.calls] == [f"{CALLS}/555"]
    assert EngagementSync.get(EngagementSync.call == call.id).status == "done"


def test_an_agent_without_a_portal_gets_none_from_the_request(client, auth_headers, grant_permission):
    grant_permission()
    response = initiate(client, auth_headers, portalId=666)
    assert response.status_code == 201
    assert Call.get_by_id(response.get_json()["call"]["id"]).hubspot_portal_id is None


def test_one_engagement_id_goes_to_one_call_under_concurrent_requests(make_app, database_url, serve_app):
    app = make_app(DATABASE_URL=database_url)
    with app.app_context(), db.connection_context():
        agents = [Agent.create(email=f"a{i}@example.com", name=f"A{i}", password_hash="x") for i in range(6)]
        calls = [Call.create(direction="outbound", status="queued", from_number="+442071838750",
                             to_number=CONTACT_PHONE, agent=agent) for agent in agents]
    with app.test_request_context():  # signing needs no database: its teardown would close ours
        tokens = [issue_token(agent) for agent in agents]
    address = serve_app(app)
    barrier, answers = threading.Barrier(len(calls)), []

    def attach(call, token):
        barrier.wait()
        answers.append(requests.post(f"http://{address}/api/calls/{call.id}/engagement", timeout=30,
                                     json={"engagementId": "17591596434"},
                                     headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=attach, args=pair) for pair in zip(calls, tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [200] + [409] * (len(calls) - 1)
    with app.app_context(), db.connection_context():
        assert Call.select().where(Call.engagement_id == "17591596434").count() == 1
