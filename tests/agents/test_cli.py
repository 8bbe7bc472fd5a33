"""`flask agents create|list|disable|enable`: passwords prompted twice and never echoed, hashes never shown."""
from werkzeug.security import check_password_hash

from widget_app.models import Agent

PASSWORD = "s3cret-passphrase"


def create(runner, email="ana@example.com", name="Ana Agent", typed=f"{PASSWORD}\n{PASSWORD}\n"):
    return runner.invoke(args=["agents", "create", "--email", email, "--name", name], input=typed)


def test_create_hashes_the_password_with_scrypt_and_never_echoes_it(runner, db):
    result = create(runner, email="Ana@Example.com")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "Password:" in result.output and "Repeat for confirmation:" in result.output
    agent = Agent.get(Agent.email == "ana@example.com")
    assert agent.name == "Ana Agent" and agent.active
    assert agent.password_hash.startswith("scrypt:")
    assert check_password_hash(agent.password_hash, PASSWORD)


def test_created_agent_can_sign_in(runner, client, db):
    create(runner)
    response = client.post("/api/auth/login", json={"email": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 200


def test_create_asks_again_when_the_confirmation_differs(runner, db):
    result = create(runner, typed=f"{PASSWORD}\nsomething-else\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert check_password_hash(Agent.get().password_hash, PASSWORD)


def test_create_gives_up_without_a_matching_password(runner, db):
    result = create(runner, typed=f"{PASSWORD}\nsomething-else\n")
    assert result.exit_code != 0
    assert Agent.select().count() == 0


def test_create_rejects_a_short_password(runner, db):
    result = create(runner, typed="short\n")
    assert result.exit_code != 0
    assert "at least 8 characters" in result.output
    assert Agent.select().count() == 0


def test_create_refuses_an_existing_email_whatever_its_case(runner, db):
    create(runner)
    result = create(runner, email="ANA@example.com", name="Other")
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert Agent.select().count() == 1


def test_create_refuses_a_malformed_email(runner, db):
    result = create(runner, email="not-an-email")
    assert result.exit_code == 1
    assert "is not an email address" in result.output
    assert Agent.select().count() == 0


def test_list_shows_a_table_without_hashes(runner, make_agent):
    ana = make_agent(hubspot_owner_id="789")
    bo = make_agent(email="bo@example.com", name="Bo Builder", active=False)
    result = runner.invoke(args=["agents", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "EMAIL", "NAME", "ROLE", "ACTIVE", "HUBSPOT", "OWNER", "CREATED"]
    assert lines[1].split()[:6] == [str(ana.id), "ana@example.com", "Ana", "Agent", "agent", "yes"]
    assert "789" in lines[1]
    assert lines[2].split()[:6] == [str(bo.id), "bo@example.com", "Bo", "Builder", "agent", "no"]
    assert "scrypt" not in result.output and ana.password_hash not in result.output


def test_list_with_no_agents_says_how_to_create_one(runner, db):
    result = runner.invoke(args=["agents", "list"])
    assert result.exit_code == 0 and "flask agents create" in result.output


def test_disable_deactivates_and_revokes_existing_tokens(runner, client, agent, auth_headers):
    assert client.get("/api/auth/me", headers=auth_headers).status_code == 200
    result = runner.invoke(args=["agents", "disable", "--email", "ANA@example.com"])
    assert result.exit_code == 0, result.output
    stored = Agent.get_by_id(agent.id)
    assert not stored.active and stored.token_version == agent.token_version + 1
    assert client.get("/api/auth/me", headers=auth_headers).status_code == 401
    login = client.post("/api/auth/login", json={"email": agent.email, "password": "correct horse"})
    assert login.status_code == 401


def test_disable_an_unknown_email_fails(runner, db):
    result = runner.invoke(args=["agents", "disable", "--email", "ghost@example.com"])
    assert result.exit_code == 1 and "No agent" in result.output


def test_enable_lets_a_disabled_agent_sign_in_again(runner, client, make_agent):
    make_agent(active=False)
    assert runner.invoke(args=["agents", "enable", "--email", "ana@example.com"]).exit_code == 0
    login = client.post("/api/auth/login", json={"email": "ana@example.com", "password": "correct horse"})
    assert login.status_code == 200
