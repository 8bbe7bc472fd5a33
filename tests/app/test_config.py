"""Settings (CONTRACT §1-2): environment, `.env` and overrides; demo vs live; live refuses to start
without what it needs, naming every missing variable."""
import os
import subprocess
import sys

import pytest
from peewee import PostgresqlDatabase

from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app.agents.accounts import agent_from_token, issue_token
from widget_app.config import DEFAULTS, LIVE_REQUIRED, ConfigError, load_settings
from widget_app.models import Agent
from widget_app.models import db as database

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIVE_ENV = {name: TEST_SETTINGS[name] for name in LIVE_REQUIRED + ["HUBSPOT_ACCESS_TOKEN"]}


@pytest.fixture
def env(monkeypatch, tmp_path):
    """A clean environment (restored afterwards, even what `.env` loads) and an empty working folder."""
    for name in list(DEFAULTS) + ["FLASK_APP"]:
        monkeypatch.setenv(name, "placeholder")  # recorded, so teardown removes what load_dotenv sets
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def settings(tmp_path, overrides=None):
    return load_settings(overrides, str(tmp_path / "instance"))


def test_without_twilio_credentials_the_mode_is_demo_with_simulated_clouds(env, tmp_path):
    loaded = settings(tmp_path)
    assert loaded["WIDGET_MODE"] == "demo"
    assert loaded["TWILIO_ACCOUNT_SID"].startswith("AC") and loaded["HUBSPOT_ACCESS_TOKEN"]
    assert loaded["DATABASE_URL"] == "sqlite:///instance/widget.db"
    assert loaded["FRAME_ANCESTORS"] == "https://*.hubspot.com"
    assert loaded["PERMISSION_WINDOW_HOURS"] == 72 and loaded["MAX_CONNECTED_CALLS_PER_DAY"] == 5


def test_with_twilio_credentials_the_mode_is_live(env, tmp_path):
    for name, value in LIVE_ENV.items():
        env.setenv(name, value)
    loaded = settings(tmp_path)
    assert loaded["WIDGET_MODE"] == "live"
    assert loaded["TWILIO_AUTH_TOKEN"] == "test-twilio-auth-token"


def test_the_environment_is_read_and_typed(env, tmp_path):
    env.setenv("PERMISSION_WINDOW_HOURS", "48")
    env.setenv("SYNC_WORKER", "false")
    env.setenv("RECORD_CALLS", "yes")
    env.setenv("TRUSTED_PROXIES", "1")
    loaded = settings(tmp_path)
    assert loaded["PERMISSION_WINDOW_HOURS"] == 48 and loaded["TRUSTED_PROXIES"] == 1
    assert loaded["SYNC_WORKER"] is False and loaded["RECORD_CALLS"] is True


def test_a_number_setting_that_is_not_a_number_stops_start_up(env, tmp_path):
    env.setenv("MAX_CONNECTED_CALLS_PER_DAY", "five")
    with pytest.raises(ConfigError, match="MAX_CONNECTED_CALLS_PER_DAY must be a whole number"):
        settings(tmp_path)


def test_dot_env_fills_in_what_the_environment_lacks(env, tmp_path):
    (tmp_path / ".env").write_text("FRAME_ANCESTORS=https://app.hubspot.com\nREDIS_URL=redis://from-dotenv:6379\n")
    env.setenv("REDIS_URL", "redis://from-environment:6379")
    loaded = settings(tmp_path)
    assert loaded["FRAME_ANCESTORS"] == "https://app.hubspot.com"
    assert loaded["REDIS_URL"] == "redis://from-environment:6379"  # the real environment wins


def test_overrides_win_over_the_environment(env, tmp_path):
    env.setenv("FRAME_ANCESTORS", "https://env.example")
    loaded = settings(tmp_path, {"FRAME_ANCESTORS": "https://override.example", "EXTRA": 1})
    assert loaded["FRAME_ANCESTORS"] == "https://override.example" and loaded["EXTRA"] == 1


def test_an_unknown_mode_stops_start_up(env, tmp_path):
    env.setenv("WIDGET_MODE", "staging")
    with pytest.raises(ConfigError, match="WIDGET_MODE must be 'demo' or 'live'"):
        settings(tmp_path)


def test_live_names_every_missing_variable(env, tmp_path):
    env.setenv("WIDGET_MODE", "live")
    with pytest.raises(ConfigError) as raised:
        settings(tmp_path)
    message = str(raised.value)
    for name in LIVE_REQUIRED + ["HUBSPOT_ACCESS_TOKEN", "HUBSPOT_CLIENT_ID", "HUBSPOT_CLIENT_SECRET"]:
        assert name in message


def test_live_accepts_an_oauth_client_instead_of_a_private_app_token(env, tmp_path):
    for name, value in LIVE_ENV.items():
        env.setenv(name, value)
    env.delenv("HUBSPOT_ACCESS_TOKEN")
    env.setenv("HUBSPOT_CLIENT_ID", "id")
    with pytest.raises(ConfigError, match="HUBSPOT_ACCESS_TOKEN"):
        settings(tmp_path)
    env.setenv("HUBSPOT_CLIENT_SECRET", "secret")
    assert settings(tmp_path)["WIDGET_MODE"] == "live"


def test_starting_live_without_settings_exits_with_a_message(tmp_path):
    """What an operator sees: the process stops at once, naming what to set."""
    environment = {k: v for k, v in os.environ.items() if k not in DEFAULTS}
    environment.update(WIDGET_MODE="live", TWILIO_ACCOUNT_SID="AC" + "1" * 32, PYTHONPATH=ROOT)
    result = subprocess.run([sys.executable, "-c", "from widget_app import create_app; create_app()"],
                            cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "WIDGET_MODE=live is missing required settings" in result.stderr
    for name in ["SECRET_KEY", "PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "TWILIO_WHATSAPP_NUMBER"]:
        assert name in result.stderr
    assert "TWILIO_ACCOUNT_SID," not in result.stderr  # the one that is set is not named


@pytest.mark.parametrize("url,expected", [
    ("postgres://u:p@db.example.com:5432/widget", "postgresql://u:p@db.example.com:5432/widget"),
    ("postgresql://u:p@db.example.com:5432/widget", "postgresql://u:p@db.example.com:5432/widget"),
    ("sqlite:////var/data/widget.db", "sqlite:////var/data/widget.db"),
])
def test_heroku_style_postgres_urls_are_accepted(env, tmp_path, url, expected):
    env.setenv("DATABASE_URL", url)
    assert settings(tmp_path)["DATABASE_URL"] == expected


def test_an_app_starts_on_a_postgres_url(tmp_path):
    app = create_app({**TEST_SETTINGS, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"})
    assert app.config["DATABASE_URL"] == "postgresql://postgres@127.0.0.1:5432/test"
    assert isinstance(app.extensions["database"], PostgresqlDatabase)


def test_demo_keeps_one_generated_secret_key_in_instance(env, tmp_path):
    first = settings(tmp_path)["SECRET_KEY"]
    assert len(first) >= 32
    assert (tmp_path / "instance" / "secret_key").read_text().strip() == first
    assert settings(tmp_path)["SECRET_KEY"] == first
    assert load_settings(None, str(tmp_path / "elsewhere"))["SECRET_KEY"] != first


def test_demo_tokens_survive_a_restart(env, tmp_path):
    """The generated key is reused, so a restarted demo server still accepts the widget's token."""
    demo = {"WIDGET_MODE": "demo", "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": f"sqlite:///{tmp_path}/demo.db", "SYNC_WORKER": False}
    from widget_app import db as db_module
    before = create_app(demo)
    db_module.upgrade()
    with before.test_request_context(), database.connection_context():
        agent = Agent.create(email="demo@example.com", name="Demo", password_hash="x")
        token = issue_token(agent)
    after = create_app(demo)
    with after.test_request_context(), database.connection_context():
        assert agent_from_token(token).id == agent.id


def test_a_given_secret_key_is_used_and_nothing_is_written(env, tmp_path):
    env.setenv("SECRET_KEY", "from-the-environment")
    assert settings(tmp_path)["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "instance" / "secret_key").exists()
