"""The agents section: list, invite with a one-time set-password link, disable, unlock, role, owner."""
import re
from datetime import timedelta

from freezegun import freeze_time
from werkzeug.security import generate_password_hash

from tests.admin.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, AdminBrowser, actions
from widget_app.core.clock import utcnow
from widget_app.models import Agent, LoginAttempt
from widget_app.models import db as database


def invite(console, email="cy@example.com", name="Cy Caller", role="agent"):
    return console.post("/admin/agents", {"email": email, "name": name, "role": role})


def link_token(response) -> str:
    link = re.search(r'id="invite-link" class="link" readonly value="([^"]+)"', response.get_data(as_text=True)).group(1)
    path, _, token = link.partition("#")
    assert path == "https://widget.example.com/admin/set-password" and token
    return token


def set_password(client, token, password="a good password", confirm=None):
    return client.post("/admin/set-password", data={"token": token, "password": password,
                                                    "confirm": password if confirm is None else confirm})


def test_the_list_shows_role_owner_availability_signed_in_now_and_last_seen(console, db, admin, make_agent):
    make_agent(email="on@example.com", name="Olga Online", hubspot_owner_id="777", available=True,
               last_seen_at=utcnow() - timedelta(seconds=20))
    make_agent(email="off@example.com", name="Oscar Offline", available=False,
               last_seen_at=utcnow() - timedelta(minutes=10))
    page = console.get("/admin/agents").get_data(as_text=True)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'<tr id="agent-\d+">\s*<th scope="row">([^<]+)<(.*?)</tr>',
                                                          page, re.S)}
    olga, oscar = rows["Olga Online"], rows["Oscar Offline"]
    assert 'value="777"' in olga and "<td>available</td>" in olga and "<td>yes</td>" in olga
    assert "<td>unavailable</td>" in oscar and "<td>no</td>" in oscar
    assert (utcnow() - timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M") in oscar
    assert "never" in rows["Bea Boss"]


def test_an_invite_makes_an_agent_and_a_single_use_link(console, client, db, admin):
    response = invite(console)
    assert response.status_code == 201
    agent = Agent.get(Agent.email == "cy@example.com")
    assert agent.role == "agent" and agent.active
    token = link_token(response)
    assert token not in agent.password_hash
    # Nobody knows the password yet: the widget's sign-in refuses anything.
    assert client.post("/api/auth/login", json={"email": "cy@example.com", "password": ""}).status_code in (400, 401)

    page = set_password(client, token)
    assert page.status_code == 200 and "Your password is set" in page.get_data(as_text=True)
    assert client.post("/api/auth/login", json={"email": "cy@example.com",
                                                "password": "a good password"}).status_code == 200
    again = set_password(client, token, "another password")
    assert again.status_code == 403 and "already used" in again.get_data(as_text=True)
    assert actions()[-2:] == [(ADMIN_EMAIL, "agent.invite", "cy@example.com"),
                              ("cy@example.com", "agent.password_set", "cy@example.com")]


def test_a_link_expires_after_three_days(console, client, db, admin):
    token = link_token(invite(console))
    with freeze_time(utcnow() + timedelta(hours=72, minutes=1)):
        assert set_password(client, token).status_code == 403


def test_a_tampered_or_foreign_link_is_refused(console, client, db, admin, make_app, tmp_path):
    token = link_token(invite(console))
    assert set_password(client, token[:-2] + ("AA" if not token.endswith("AA") else "BB")).status_code == 403
    assert set_password(client, "").status_code == 403
    assert Agent.get(Agent.email == "cy@example.com").token_version == 1


def test_a_short_or_mismatched_password_is_a_400_and_keeps_the_link(console, client, db, admin):
    token = link_token(invite(console))
    assert set_password(client, token, "short").status_code == 400
    assert set_password(client, token, "a good password", "a different one").status_code == 400
    assert set_password(client, token).status_code == 200


def test_the_set_password_page_is_public_and_keeps_the_token_out_of_the_url(client, db):
    page = client.get("/admin/set-password")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="token" id="token" value=""' in html and "admin-" in html  # admin.js fills it from the fragment


def test_a_new_link_for_an_existing_agent_resets_their_password_once(console, client, db, admin, agent):
    response = console.post(f"/admin/agents/{agent.id}/link")
    token = link_token(response)
    assert set_password(client, token, "fresh password").status_code == 200
    assert client.post("/api/auth/login", json={"email": agent.email, "password": "fresh password"}).status_code == 200
    assert Agent.get_by_id(agent.id).token_version == 2  # every older token died with the old password
    assert (ADMIN_EMAIL, "agent.password_link", agent.email) in actions()


def test_inviting_an_existing_email_is_a_400_that_records_nothing(console, db, admin, agent):
    before = actions()
    response = invite(console, email=agent.email.upper())
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)
    assert actions() == before
    assert invite(console, role="owner").status_code == 400


def test_disable_and_enable(console, client, db, admin, agent, auth_headers):
    assert console.post(f"/admin/agents/{agent.id}/enabled", {"enabled": "no"}).status_code == 302
    assert not Agent.get_by_id(agent.id).active
    assert client.get("/api/auth/me", headers=auth_headers).status_code == 401  # their tokens died at once
    console.post(f"/admin/agents/{agent.id}/enabled", {"enabled": "yes"})
    assert Agent.get_by_id(agent.id).active
    assert actions()[-2:] == [(ADMIN_EMAIL, "agent.disable", agent.email), (ADMIN_EMAIL, "agent.enable", agent.email)]


def test_the_last_active_admin_can_be_neither_disabled_nor_demoted(console, db, admin, make_agent):
    before = actions()
    assert console.post(f"/admin/agents/{admin.id}/enabled", {"enabled": "no"}).status_code == 409
    assert console.post(f"/admin/agents/{admin.id}/role", {"role": "agent"}).status_code == 409
    assert Agent.get_by_id(admin.id).is_admin and Agent.get_by_id(admin.id).active
    assert actions() == before
    other = make_agent(email="second@example.com")
    console.post(f"/admin/agents/{other.id}/role", {"role": "admin"})
    assert Agent.get_by_id(other.id).is_admin
    assert console.post(f"/admin/agents/{admin.id}/role", {"role": "agent"}).status_code == 302
    assert actions()[-2:] == [(ADMIN_EMAIL, "agent.role", other.email), (ADMIN_EMAIL, "agent.role", admin.email)]


def test_unlock_forgets_failed_sign_ins(console, client, db, admin, agent):
    for _ in range(6):
        client.post("/api/auth/login", json={"email": agent.email, "password": "wrong"})
    assert client.post("/api/auth/login", json={"email": agent.email, "password": "correct horse"}).status_code == 429
    row = re.search(rf'<tr id="agent-{agent.id}">(.*?)</tr>', console.get("/admin/agents").get_data(as_text=True), re.S)
    assert "<td>5</td>" in row.group(1)  # the sixth guess was blocked, so never counted
    response = console.post(f"/admin/agents/{agent.id}/unlock")
    assert "5 failed sign-ins forgotten" in response.get_data(as_text=True)
    assert client.post("/api/auth/login", json={"email": agent.email, "password": "correct horse"}).status_code == 200
    assert LoginAttempt.select().where(LoginAttempt.email == agent.email, ~LoginAttempt.succeeded).count() == 0
    assert (ADMIN_EMAIL, "agent.unlock", agent.email) in actions()


def test_set_and_clear_the_hubspot_owner(console, db, admin, agent, make_agent):
    holder = make_agent(email="holder@example.com", hubspot_owner_id="4242")
    console.post(f"/admin/agents/{agent.id}/owner", {"owner": "4242"})
    assert Agent.get_by_id(agent.id).hubspot_owner_id == "4242"
    assert Agent.get_by_id(holder.id).hubspot_owner_id is None  # one agent per owner: calls ring one person
    assert console.post(f"/admin/agents/{agent.id}/owner", {"owner": "12a"}).status_code == 400
    console.post(f"/admin/agents/{agent.id}/owner", {"owner": " "})
    assert Agent.get_by_id(agent.id).hubspot_owner_id is None
    assert [a for a in actions() if a[1] == "agent.owner"] == [(ADMIN_EMAIL, "agent.owner", agent.email)] * 2


def test_an_unknown_agent_is_a_404(console, db, admin):
    assert console.post("/admin/agents/999/unlock").status_code == 404


def test_a_form_field_with_a_nul_is_a_400_on_postgresql_too(make_app, database_url):
    """PostgreSQL refuses NUL in text: the console refuses it first, with a clear 400 and nothing written."""
    app = make_app(DATABASE_URL=database_url)
    with database.connection_context():
        Agent.create(email=ADMIN_EMAIL, name="Bea", password_hash=generate_password_hash(ADMIN_PASSWORD), role="admin")
    console = AdminBrowser(app.test_client())
    console.sign_in()
    for data in ({"email": "n@example.com", "name": "a\x00b", "role": "agent"},
                 {"email": "n\x00@example.com", "name": "N", "role": "agent"}, {"email": "x" * 300, "name": "N"}):
        assert console.post("/admin/agents", data).status_code == 400
    with database.connection_context():
        assert Agent.select().count() == 1
