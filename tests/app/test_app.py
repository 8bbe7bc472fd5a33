"""The application shell: health check, error shapes for programs and people, vendored bundles."""
import os

import pytest

from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app.config import ConfigError


def test_health_is_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_health_is_503_naming_the_database_when_it_is_gone(make_app, tmp_path):
    app = make_app()
    app.extensions["database"].init(str(tmp_path / "no-such-dir" / "widget.db"))  # unopenable file
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert set(response.json["failed"]) == {"database"}


def test_health_checks_redis_when_configured(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert set(response.json["failed"]) == {"redis"}


def test_health_with_a_live_redis(make_app):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    assert make_app(REDIS_URL=url).test_client().get("/healthz").status_code == 200


@pytest.mark.parametrize("method, path, status, code", [
    ("get", "/api/nothing-here", 404, "not_found"),
    ("delete", "/api/auth/me", 405, "method_not_allowed"),
])
def test_api_errors_are_json_in_the_contract_shape(client, auth_headers, method, path, status, code):
    response = getattr(client, method)(path, headers=auth_headers)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_api_bodies_over_the_limit_are_413_json(client, auth_headers):
    response = client.post("/api/permissions/request", data="x" * (70 * 1024), headers=auth_headers,
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


def test_a_bug_is_a_500_json_for_programs_and_html_for_people(make_app):
    app = make_app()

    @app.get("/api/explode")
    def explode_api():
        raise RuntimeError("boom")

    @app.get("/explode")
    def explode_page():
        raise RuntimeError("boom")

    client = app.test_client()
    from widget_app.agents.accounts import issue_token
    from widget_app.models import Agent
    with app.test_request_context():
        agent = Agent.create(email="x@example.com", name="X", password_hash="x")
        headers = {"Authorization": f"Bearer {issue_token(agent)}"}
    api = client.get("/api/explode", headers=headers)
    assert api.status_code == 500
    assert api.json == {"error": {"code": "internal_error", "message": "Something went wrong on our side."}}
    assert "boom" not in api.get_data(as_text=True)
    page = client.get("/explode")
    assert page.status_code == 500 and page.mimetype == "text/html"
    assert "boom" not in page.get_data(as_text=True)


def test_pages_get_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_the_app_refuses_to_start_without_the_vendored_bundles(tmp_path, monkeypatch):
    from widget_app import VENDOR_BUNDLES
    real_isfile = os.path.isfile
    monkeypatch.setattr(os.path, "isfile",
                        lambda path: False if path.endswith(VENDOR_BUNDLES[0]) else real_isfile(path))
    with pytest.raises(ConfigError) as excinfo:
        create_app({**TEST_SETTINGS, "INSTANCE_PATH": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert "calling-extensions-sdk.js" in str(excinfo.value) and "npm ci" in str(excinfo.value)


def test_the_vendored_bundles_are_served_as_javascript(client):
    for name in ("calling-extensions-sdk.js", "twilio.min.js"):
        response = client.get(f"/static/vendor/{name}")
        assert response.status_code == 200
        assert "javascript" in response.mimetype
        response.close()
