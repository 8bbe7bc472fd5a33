"""Who may open /admin: the URL map walked for every rule, as nobody, as a non-admin, without CSRF."""
import tempfile

import pytest
from flask import url_for

from tests.admin.conftest import ADMIN_EMAIL, AdminBrowser, actions
from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app.admin import session
from widget_app.agents.accounts import sign_out_everywhere
from widget_app.models import AdminAction, Agent


def admin_routes():
    """(endpoint, arguments, method) of every /admin rule the app's URL map holds."""
    with tempfile.TemporaryDirectory(prefix="urlmap-") as scratch:  # the map needs no database
        app = create_app({**TEST_SETTINGS, "INSTANCE_PATH": scratch, "DATABASE_URL": f"sqlite:///{scratch}/map.db"})
    return [pytest.param(rule.endpoint, sorted(rule.arguments), method, id=f"{method} {rule.rule}")
            for rule in app.url_map.iter_rules() if rule.rule.startswith("/admin")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


ROUTES = admin_routes()
GUARDED = [route for route in ROUTES if route.values[0] not in session.PUBLIC_ENDPOINTS]


def open_route(client, app, endpoint, arguments, method, data=None):
    with app.test_request_context():
        url = url_for(endpoint, **{name: 1 for name in arguments})
    return client.open(url, method=method, data=data or {})


def test_the_map_has_admin_routes_and_only_sign_in_and_set_password_are_public():
    endpoints = {route.values[0] for route in ROUTES}
    assert {"admin.agents", "admin.invite", "admin.audit_log", "admin.insights_page", "admin.insights_csv"} <= endpoints
    assert {"admin.signin", "admin.start_signin", "admin.set_password",
                                        "admin.save_password"} == session.PUBLIC_ENDPOINTS
    assert endpoints >= session.PUBLIC_ENDPOINTS


@pytest.mark.parametrize("endpoint,arguments,method", GUARDED)
def test_nobody_signed_in_is_sent_to_sign_in_or_refused(client, app, db, admin, endpoint, arguments, method):
    response = open_route(client, app, endpoint, arguments, method)
    if method == "GET":
        assert response.status_code == 302 and response.headers["Location"].endswith("/admin/signin")
    else:
        assert response.status_code == 403
    assert AdminAction.select().count() == 0


@pytest.mark.parametrize("endpoint,arguments,method", GUARDED)
def test_an_agent_without_the_admin_role_gets_403(client, app, db, admin, make_agent, endpoint, arguments, method):
    """An admin's cookie outlives their demotion: from then on every admin route refuses it."""
    demoted = make_agent(email="was-boss@example.com", role="admin")
    browser = AdminBrowser(client)
    assert browser.sign_in("was-boss@example.com", "correct horse").status_code == 302
    Agent.update(role="agent").where(Agent.id == demoted.id).execute()
    response = open_route(client, app, endpoint, arguments, method, data={"csrf_token": browser.csrf})
    assert response.status_code == 403
    assert "Only an admin" in response.get_data(as_text=True)
    assert [a for a in actions() if a[1] != "admin.signin"] == []


def test_an_agent_without_the_admin_role_cannot_sign_in(client, db, admin, make_agent):
    make_agent(email="ana@example.com")
    response = AdminBrowser(client).sign_in("ana@example.com", "correct horse")
    assert response.status_code == 403 and "Only an admin" in response.get_data(as_text=True)
    assert "wa_admin" not in response.headers.get("Set-Cookie", "")
    assert client.get("/admin/agents").status_code == 302


def test_a_wrong_password_is_refused_under_the_sign_in_limits(client, db, admin):
    browser = AdminBrowser(client)
    assert browser.sign_in(ADMIN_EMAIL, "wrong").status_code == 401
    for _ in range(5):
        browser.sign_in(ADMIN_EMAIL, "wrong")
    assert browser.sign_in().status_code == 429  # the widget's limits hold here too


def test_the_session_cookie_is_first_party_secure_httponly_lax_and_scoped_to_admin(client, db, admin):
    response = AdminBrowser(client).sign_in()
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("wa_admin=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/admin"):
        assert flag in cookie
    assert "Partitioned" not in cookie


def test_a_post_without_the_sessions_csrf_token_changes_nothing(console, db, admin):
    before = actions()
    for token in (None, "", "forged", console.csrf + "x"):
        data = {"email": "new@example.com", "name": "New", "role": "agent"}
        if token is not None:
            data["csrf_token"] = token
        response = console.post("/admin/agents", data, csrf=False)
        assert response.status_code == 403 and "stale or came from another site" in response.get_data(as_text=True)
    assert Agent.get_or_none(Agent.email == "new@example.com") is None
    assert actions() == before


def test_another_sessions_csrf_token_does_not_pass(app, console, db, admin):
    other = AdminBrowser(app.test_client())
    other.sign_in()
    assert other.csrf != console.csrf
    response = console.post("/admin/agents", {"email": "n@example.com", "name": "N", "role": "agent",
                                              "csrf_token": other.csrf}, csrf=False)
    assert response.status_code == 403


def test_signing_out_everywhere_ends_the_console_session(console, db, admin):
    assert console.get("/admin/agents").status_code == 200
    sign_out_everywhere(admin)
    assert console.get("/admin/agents").status_code == 302


def test_signing_out_ends_the_session_and_is_audited(console, db, admin):
    response = console.post("/admin/signout")
    assert response.status_code == 302 and "wa_admin=;" in response.headers["Set-Cookie"]
    assert console.get("/admin/agents").status_code == 302
    assert actions() == [(ADMIN_EMAIL, "admin.signin", ADMIN_EMAIL), (ADMIN_EMAIL, "admin.signout", ADMIN_EMAIL)]


def test_the_audit_page_lists_actions_newest_first(console, db, admin):
    console.post("/admin/agents", {"email": "cy@example.com", "name": "Cy", "role": "agent"})
    page = console.get("/admin/audit").get_data(as_text=True)
    assert page.index("agent.invite") < page.index("admin.signin")
    assert "cy@example.com" in page and ADMIN_EMAIL in page


def test_admin_pages_keep_the_strict_csp(console):
    response = console.get("/admin/agents")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in response.get_data(as_text=True)
