"""The Procfile's server never writes a bearer token to its access log (issue 12, item 4)."""
import pytest
import requests
from werkzeug.security import generate_password_hash

from tests.browser.helpers import wait_for_row
from tests.helpers import TEST_SETTINGS, Client, wait_for
from widget_app.models import Agent


@pytest.mark.integration
def test_gunicorns_access_log_never_holds_a_token(make_app, gunicorn, tmp_path):
    """The widget's whole sign-in and socket flow against the Procfile's server; then read its log."""
    settings = {key: value for key, value in TEST_SETTINGS.items() if key != "TESTING"}
    settings.update(DATABASE_URL=f"sqlite:///{tmp_path}/access.db", SYNC_WORKER="false")
    app = make_app(**settings)
    with app.app_context():
        agent = Agent.create(email="ana@example.com", name="Ana", password_hash=generate_password_hash("pw"))
    server = gunicorn(settings, workers=2)
    signed_in = requests.post(f"{server.base_url}/api/auth/login", json={"email": "ana@example.com", "password": "pw"},
                              timeout=10)
    token = signed_in.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    ticket = requests.post(f"{server.base_url}/api/realtime/ticket", headers=bearer, timeout=10).json()["ticket"]
    ws = Client.connect(f"ws://{server.address}/ws?ticket={ticket}")
    assert wait_for_row(lambda: Agent.get_by_id(agent.id).last_seen_at is not None)
    requests.get(f"{server.base_url}/api/auth/me", headers=bearer, timeout=10)
    ws.close()
    # gunicorn logs no upgraded request, but one a proxy failed to upgrade (and Heroku's router) it does.
    assert requests.get(f"{server.base_url}/ws?ticket={ticket}", timeout=10).status_code == 400
    assert wait_for(lambda: any("/ws?ticket=" in line for line in server.access_lines()))
    log = "\n".join(server.access_lines())
    assert "/api/realtime/ticket" in log
    assert token not in log and token.split(".")[0] not in log
