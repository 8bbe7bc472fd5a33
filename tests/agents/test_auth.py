"""Sign-in inside the HubSpot iframe: login, brute-force limits, the partitioned session cookie,
resume, logout and the HubSpot identity link (CONTRACT §4)."""
from datetime import timedelta

import pytest
from freezegun import freeze_time

from tests.helpers import HUBSPOT_API
from widget_app.agents import limits
from widget_app.core.clock import isoformat, utcnow
from widget_app.models import Agent, LoginAttempt

PASSWORD = "correct horse"


def login(client, email="ana@example.com", password=PASSWORD, ip="192.0.2.10"):
    return client.post("/api/auth/login", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def session_cookie_header(response) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("wa_session=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def test_login_answers_a_token_that_works_and_the_agent(client, agent):
    response = login(client)
    assert response.status_code == 200
    body = response.get_json()
    assert body["agent"]["email"] == "ana@example.com" and body["agent"]["id"] == agent.id
    assert "password_hash" not in body["agent"]
    me = client.get("/api/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200 and me.get_json() == {"agent": body["agent"]}


def test_login_email_ignores_case_and_spaces(client, agent):
    assert login(client, email="  ANA@Example.COM ").status_code == 200


@pytest.mark.parametrize("email,password", [("ana@example.com", "wrong"), ("nobody@example.com", PASSWORD)])
def test_wrong_password_and_unknown_email_answer_the_same(client, agent, email, password):
    response = login(client, email=email, password=password)
    assert response.status_code == 401
    assert response.get_json() == {"error": {"code": "invalid_credentials",
                                             "message": "The email or password is wrong."}}
    assert "wa_session" not in response.headers.get("Set-Cookie", "")


def test_disabled_agent_cannot_sign_in_even_with_the_right_password(client, make_agent):
    make_agent(active=False)
    assert login(client).get_json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize("body,code", [
    ('{"email": "ana@example.com", "password": ', "invalid_json"),
    ('["ana@example.com", "x"]', "invalid_json"),
    ('{"email": "ana@example.com"}', "missing_field"),
    ('{"email": 5, "password": "x"}', "invalid_field"),
    ('{"email": "ana@example.com", "password": ["x"]}', "invalid_field"),
    ('{"email": "", "password": "x"}', "invalid_field"),
])
def test_bad_login_bodies_are_400_and_record_nothing(client, agent, db, body, code):
    response = client.post("/api/auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == code
    assert LoginAttempt.select().count() == 0


def test_oversized_body_is_413_json_and_records_nothing(client, app, agent, db):
    padding = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/auth/login", json={"email": "ana@example.com", "password": padding})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"
    assert LoginAttempt.select().count() == 0


def test_sixth_attempt_after_five_failures_is_429_even_with_the_right_password(client, agent):
    with freeze_time("2025-03-01 10:00:00") as frozen:
        first = utcnow()
        for _ in range(5):
            assert login(client, password="wrong").status_code == 401
            frozen.tick(timedelta(minutes=1))
        response = login(client)
        assert response.status_code == 429
        error = response.get_json()["error"]
        assert error["code"] == "too_many_attempts"
        assert error["retry_at"] == isoformat(first + timedelta(minutes=15)) == "2025-03-01T10:15:00.000Z"
        assert response.headers["Retry-After"] == str(10 * 60)  # it is 10:05 now
        assert "wa_session" not in response.headers.get("Set-Cookie", "")


def test_the_block_ends_when_the_oldest_failure_leaves_the_15_minute_window(client, agent):
    with freeze_time("2025-03-01 10:00:00") as frozen:
        for _ in range(5):
            login(client, password="wrong")
        frozen.tick(timedelta(minutes=14, seconds=59))
        assert login(client).status_code == 429  # blocked attempts do not extend the block
        frozen.tick(timedelta(seconds=1))
        assert login(client).status_code == 200


def test_a_success_resets_the_email_count(client, agent):
    with freeze_time("2025-03-01 10:00:00"):
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"):
            login(client, password="wrong", ip=ip)
        assert login(client, ip="192.0.2.5").status_code == 200
        for ip in ("192.0.2.6", "192.0.2.7", "192.0.2.8", "192.0.2.9"):
            login(client, password="wrong", ip=ip)
        assert login(client, ip="192.0.2.11").status_code == 200


def test_failures_from_one_address_block_that_address_for_every_email(client, agent):
    with freeze_time("2025-03-01 10:00:00"):
        for n in range(limits.ADDRESS_MAX_FAILURES):
            assert login(client, email=f"guess{n}@example.com", password="x", ip="203.0.113.7").status_code == 401
        blocked = login(client, ip="203.0.113.7")
        assert blocked.status_code == 429
        assert blocked.get_json()["error"]["retry_at"] == "2025-03-01T10:15:00.000Z"
        assert login(client, ip="203.0.113.8").status_code == 200


def test_five_failures_for_one_email_only_slow_it_down_from_every_other_address(client, agent):
    with freeze_time("2025-03-01 10:00:00"):
        for n in range(5):
            login(client, password="wrong", ip=f"198.51.100.{n}")
        slowed = login(client, ip="198.51.100.99")
        assert slowed.status_code == 429 and slowed.get_json()["error"]["retry_at"] == "2025-03-01T10:00:01.000Z"


def test_the_counts_are_shared_by_every_worker(make_app, agent):
    """Two app instances on one database stand for two gunicorn workers."""
    first, second = make_app().test_client(), make_app().test_client()
    for client in (first, second, first, second, first):
        assert login(client, password="wrong").status_code == 401
    assert login(second).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_address_is_counted(make_app, make_agent):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    make_agent()
    for n in range(5):
        client.post("/api/auth/login", json={"email": f"g{n}@example.com", "password": "x"},
                    headers={"X-Forwarded-For": "203.0.113.50"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    other_client = client.post("/api/auth/login", json={"email": "ana@example.com", "password": PASSWORD},
                               headers={"X-Forwarded-For": "203.0.113.51"}, environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert other_client.status_code == 200
    assert {row.ip for row in LoginAttempt.select()} == {"203.0.113.50", "203.0.113.51"}


def test_login_sets_a_partitioned_http_only_session_cookie(client, agent):
    header = session_cookie_header(login(client))
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "partitioned"} <= attributes.keys()
    assert attributes["samesite"] == "SameSite=None"
    assert attributes["path"] == "Path=/api/auth"
    assert attributes["max-age"] == "Max-Age=43200"


def test_resume_with_the_cookie_answers_a_fresh_working_token(client, agent):
    login(client)
    response = client.post("/api/auth/resume")  # the cookie only: a reloaded iframe has no token
    assert response.status_code == 200
    body = response.get_json()
    assert body["agent"]["id"] == agent.id
    assert client.get("/api/auth/me", headers=bearer(body["token"])).status_code == 200


def test_resume_without_a_cookie_is_401(client, agent):
    response = client.post("/api/auth/resume")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_resume_with_a_tampered_cookie_is_401_and_clears_it(client, agent):
    login(client)
    value = client.get_cookie("wa_session", path="/api/auth").value
    client.set_cookie("wa_session", value[:-6] + ("AAAAAA" if not value.endswith("AAAAAA") else "BBBBBB"),
                      path="/api/auth")
    response = client.post("/api/auth/resume")
    assert response.status_code == 401
    assert "Max-Age=0" in session_cookie_header(response)
    assert client.get_cookie("wa_session", path="/api/auth") is None


def test_the_bearer_token_is_not_a_session_cookie_and_back(client, agent):
    token = login(client).get_json()["token"]
    cookie = client.get_cookie("wa_session", path="/api/auth").value
    assert client.get("/api/auth/me", headers=bearer(cookie)).status_code == 401
    client.set_cookie("wa_session", token, path="/api/auth")
    assert client.post("/api/auth/resume").status_code == 401


def test_session_cookie_expires_after_12_hours(client, agent):
    login(client)
    cookie = client.get_cookie("wa_session", path="/api/auth").value
    with freeze_time(utcnow() + timedelta(hours=11, minutes=59)):
        assert client.post("/api/auth/resume").status_code == 200
    with freeze_time(utcnow() + timedelta(hours=12, seconds=1)):
        client.set_cookie("wa_session", cookie, path="/api/auth")  # a browser that kept it past Max-Age
        assert client.post("/api/auth/resume").status_code == 401


def test_logout_revokes_every_token_and_the_cookie(client, agent):
    token = login(client).get_json()["token"]
    other_token = login(client.application.test_client()).get_json()["token"]  # another tab or browser
    response = client.post("/api/auth/logout", headers=bearer(token))
    assert response.status_code == 204 and response.data == b""
    assert "Max-Age=0" in session_cookie_header(response)
    assert "Partitioned" in session_cookie_header(response)  # a partitioned cookie is cleared as one
    for old in (token, other_token):
        assert client.get("/api/auth/me", headers=bearer(old)).status_code == 401


def test_a_cookie_kept_after_logout_no_longer_resumes(client, agent):
    login(client)
    cookie = client.get_cookie("wa_session", path="/api/auth").value
    token = client.post("/api/auth/resume").get_json()["token"]
    client.post("/api/auth/logout", headers=bearer(token))
    client.set_cookie("wa_session", cookie, path="/api/auth")
    assert client.post("/api/auth/resume").status_code == 401


def test_disabling_an_agent_kills_their_cookie(client, runner, agent):
    login(client)
    assert runner.invoke(args=["agents", "disable", "--email", agent.email]).exit_code == 0
    assert client.post("/api/auth/resume").status_code == 401


@pytest.mark.parametrize("context", [
    {"portalId": 123, "userId": 456, "ownerId": 789},
    {"portalId": "123", "userId": "456", "ownerId": "789"},
])
def test_hubspot_context_links_the_agent_to_their_hubspot_user(client, agent, auth_headers, db, context, http_mock):
    hubspot_knows(http_mock, owner_email=agent.email)
    response = client.post("/api/auth/hubspot-context", json=context, headers=auth_headers)
    assert response.status_code == 200
    linked = response.get_json()["agent"]
    assert (linked["hubspot_portal_id"], linked["hubspot_user_id"], linked["hubspot_owner_id"]) == ("123", "456", "789")
    stored = Agent.get_by_id(agent.id)
    assert (stored.hubspot_portal_id, stored.hubspot_user_id, stored.hubspot_owner_id) == ("123", "456", "789")


def hubspot_knows(http_mock, owner_email):
    """The private-app token's portal is 123, whose owner 789 (HubSpot user 456) has this email."""
    http_mock.get(f"{HUBSPOT_API}/account-info/2026-03/details", json={"portalId": 123, "timeZone": "US/Eastern"})
    http_mock.get(f"{HUBSPOT_API}/crm/owners/2026-03/789", json={
        "id": "789", "email": owner_email, "userId": 456, "type": "PERSON", "archived": False,
        "createdAt": "2019-10-30T03:30:17.883Z", "updatedAt": "2019-12-07T16:50:06.678Z"})


@pytest.mark.parametrize("context,field", [
    ({"portalId": 123, "userId": 456}, "ownerId"),
    ({"portalId": True, "userId": 456, "ownerId": 789}, "portalId"),
    ({"portalId": 123, "userId": "45a", "ownerId": 789}, "userId"),
    ({"portalId": 123, "userId": 456, "ownerId": -1}, "ownerId"),
    ({"portalId": 123, "userId": 456, "ownerId": 1.5}, "ownerId"),
    ({"portalId": 123, "userId": "٤٥٦", "ownerId": 789}, "userId"),
    ({"portalId": 2 ** 63, "userId": 456, "ownerId": 789}, "portalId"),
])
def test_hubspot_context_rejects_bad_ids_and_writes_nothing(client, agent, auth_headers, db, context, field):
    response = client.post("/api/auth/hubspot-context", json=context, headers=auth_headers)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field
    assert Agent.get_by_id(agent.id).hubspot_owner_id is None


def test_one_hubspot_owner_routes_to_the_agent_hubspot_confirms(client, make_agent, db, http_mock):
    first = make_agent(hubspot_portal_id="123", hubspot_owner_id="789")  # set by an admin, say
    second = make_agent(email="bo@example.com", name="Bo")
    hubspot_knows(http_mock, owner_email="bo@example.com")
    context = {"portalId": 123, "userId": 456, "ownerId": 789}
    token = login(client, email=second.email).get_json()["token"]
    assert client.post("/api/auth/hubspot-context", json=context, headers=bearer(token)).status_code == 200
    assert Agent.get_by_id(first.id).hubspot_owner_id is None
    assert Agent.get_by_id(second.id).hubspot_owner_id == "789"
