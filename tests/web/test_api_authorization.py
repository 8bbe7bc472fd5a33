"""Who may do what: every /api/* route but sign-in answers 401 to a bad token, revealing nothing.

The routes are read from the app's URL map at collection time, so a route added later is covered
without anyone remembering to list it here.
"""
import base64
import json
import tempfile
from datetime import timedelta

import pytest
from flask import url_for
from freezegun import freeze_time
from itsdangerous import URLSafeTimedSerializer

from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app.agents.accounts import issue_token
from widget_app.core.clock import utcnow
from widget_app.models import Agent, Call
from widget_app.web.auth import PUBLIC_API_ENDPOINTS

UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "Sign in to continue."}}


def protected_routes():
    """(endpoint, rule, method) for every /api/* route the URL map holds, except sign-in itself."""
    with tempfile.TemporaryDirectory(prefix="urlmap-") as scratch:  # the map needs no database
        app = create_app({**TEST_SETTINGS, "INSTANCE_PATH": scratch, "DATABASE_URL": f"sqlite:///{scratch}/map.db"})
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint not in PUBLIC_API_ENDPOINTS:
            routes += [pytest.param(rule.endpoint, sorted(rule.arguments), method, id=f"{method} {rule.rule}")
                       for method in sorted(rule.methods)]
    return routes


ROUTES = protected_routes()


def request_route(client, app, endpoint, arguments, method, headers):
    """Call a route with a dummy value for each URL argument and an empty JSON body."""
    with app.test_request_context():
        url = url_for(endpoint, **{name: "1" for name in arguments})
    body = {} if method not in ("GET", "HEAD", "OPTIONS") else None
    return client.open(url, method=method, json=body, headers=headers)


def assert_unauthorized(response):
    assert response.status_code == 401, response.data
    if response.request.method != "HEAD":
        assert response.get_json() == UNAUTHORIZED


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def tampered(token: str, agent_id: int) -> str:
    """The same signature over a payload naming another agent."""
    payload, rest = token.split(".", 1)
    forged = base64.urlsafe_b64encode(json.dumps({"a": agent_id, "v": 1}).encode()).decode().rstrip("=")
    assert forged != payload
    return f"{forged}.{rest}"


def test_the_url_map_has_protected_api_routes():
    endpoints = {param.values[0] for param in ROUTES}
    assert {"auth.logout", "auth.me", "auth.hubspot_context"} <= endpoints


@pytest.mark.parametrize("endpoint,arguments,method", ROUTES)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer not-a-token"},
                                     {"Authorization": "Basic YW5hOnB3"}], ids=["none", "empty", "garbage", "basic"])
def test_no_valid_token_is_401(client, app, agent, endpoint, arguments, method, headers):
    assert_unauthorized(request_route(client, app, endpoint, arguments, method, headers))


@pytest.mark.parametrize("endpoint,arguments,method", ROUTES)
def test_expired_token_is_401(client, app, agent, auth_headers, endpoint, arguments, method):
    with freeze_time(utcnow() + timedelta(hours=12, seconds=1)):
        assert_unauthorized(request_route(client, app, endpoint, arguments, method, auth_headers))


@pytest.mark.parametrize("endpoint,arguments,method", ROUTES)
def test_tampered_or_forged_token_is_401(client, app, make_agent, endpoint, arguments, method):
    ana, bo = make_agent(), make_agent(email="bo@example.com", name="Bo")
    with app.test_request_context():
        token = issue_token(ana)
    forged = URLSafeTimedSerializer("not-our-secret", salt="agent-token").dumps({"a": bo.id, "v": 1})
    for bad in (tampered(token, bo.id), forged, token[:-4]):
        assert_unauthorized(request_route(client, app, endpoint, arguments, method, bearer(bad)))


@pytest.mark.parametrize("endpoint,arguments,method", ROUTES)
def test_logged_out_token_is_401(client, app, agent, auth_headers, endpoint, arguments, method):
    assert client.post("/api/auth/logout", headers=auth_headers).status_code == 204
    assert_unauthorized(request_route(client, app, endpoint, arguments, method, auth_headers))


@pytest.mark.parametrize("endpoint,arguments,method", ROUTES)
def test_disabled_agents_token_is_401(client, app, runner, agent, auth_headers, endpoint, arguments, method):
    assert runner.invoke(args=["agents", "disable", "--email", agent.email]).exit_code == 0
    assert_unauthorized(request_route(client, app, endpoint, arguments, method, auth_headers))


def test_a_deleted_agents_token_is_401(client, agent, auth_headers):
    Agent.delete_by_id(agent.id)
    assert_unauthorized(client.get("/api/auth/me", headers=auth_headers))


def test_a_valid_token_passes_the_guard(client, auth_headers):
    assert client.get("/api/auth/me", headers=auth_headers).status_code == 200


def test_unknown_api_paths_reveal_nothing_without_a_token(client, auth_headers):
    assert_unauthorized(client.get("/api/no-such-thing"))
    assert_unauthorized(client.delete("/api/auth/me"))
    assert client.get("/api/no-such-thing", headers=auth_headers).status_code == 404
    assert client.delete("/api/auth/me", headers=auth_headers).status_code == 405


def test_a_route_added_without_a_decorator_is_still_guarded(make_app, make_agent):
    """The guard is central: a new /api route that forgets @login_required is protected anyway."""
    app = make_app()
    app.add_url_rule("/api/forgotten", "forgotten", lambda: {"secret": "data"})
    client = app.test_client()
    assert_unauthorized(client.get("/api/forgotten"))
    with app.test_request_context():
        token = issue_token(make_agent())
    assert client.get("/api/forgotten", headers=bearer(token)).get_json() == {"secret": "data"}


def test_another_agents_call_is_not_visible(client, app, make_agent, db):
    ana, bo = make_agent(), make_agent(email="bo@example.com", name="Bo")
    bos_call = Call.create(direction="outbound", status="completed", from_number="+442071838750",
                           to_number="+447400123456", sid="CA" + "b" * 32, agent=bo)
    with app.test_request_context():
        ana_headers, bo_headers = bearer(issue_token(ana)), bearer(issue_token(bo))
    for ref in (bos_call.id, bos_call.sid):
        response = client.get(f"/api/calls/status/{ref}", headers=ana_headers)
        assert response.status_code == 404, response.data
        assert bos_call.sid not in response.get_data(as_text=True)
        assert client.get(f"/api/calls/status/{ref}", headers=bo_headers).status_code == 200


def test_call_history_shows_only_the_agents_own_calls(client, app, make_agent, db):
    ana, bo = make_agent(), make_agent(email="bo@example.com", name="Bo")
    bos_call = Call.create(direction="outbound", status="completed", from_number="+442071838750",
                           to_number="+447400123456", sid="CA" + "b" * 32, agent=bo)
    with app.test_request_context():
        ana_headers, bo_headers = bearer(issue_token(ana)), bearer(issue_token(bo))
    history = client.get("/api/calls", headers=ana_headers)
    assert history.status_code == 200 and history.get_json()["calls"] == []
    assert [c["id"] for c in client.get("/api/calls", headers=bo_headers).get_json()["calls"]] == [bos_call.id]
