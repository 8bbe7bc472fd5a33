"""What a Heroku-style platform reads: app.json (buildpacks, add-ons, every setting), .python-version, the Procfile."""
import json
import pathlib
import re

from widget_app.config import DEFAULTS, LIVE_REQUIRED

ROOT = pathlib.Path(__file__).resolve().parent.parent
APP_JSON = json.loads((ROOT / "app.json").read_text())


def test_app_json_declares_exactly_the_apps_settings():
    assert set(APP_JSON["env"]) == set(DEFAULTS)


def test_every_setting_in_app_json_has_a_description():
    assert [name for name, entry in APP_JSON["env"].items() if not entry.get("description", "").strip()] == []


def test_app_json_requires_what_live_mode_requires_and_generates_the_secret():
    required = {name for name, entry in APP_JSON["env"].items() if entry.get("required", True)}
    assert required == set(LIVE_REQUIRED) | {"WIDGET_MODE"}
    assert APP_JSON["env"]["SECRET_KEY"] == {**APP_JSON["env"]["SECRET_KEY"], "generator": "secret"}
    assert APP_JSON["env"]["WIDGET_MODE"]["value"] == "live"


def test_app_json_defaults_match_the_apps_defaults():
    wrong = {name: (entry["value"], DEFAULTS[name]) for name, entry in APP_JSON["env"].items()
             if "value" in entry and name not in ("WIDGET_MODE", "TRUSTED_PROXIES", "REDIS_TLS_VERIFY")
             and entry["value"] != str(DEFAULTS[name]).lower() and entry["value"] != str(DEFAULTS[name])}
    assert wrong == {}
    assert APP_JSON["env"]["TRUSTED_PROXIES"]["value"] == "1"  # Heroku's router is one proxy
    assert APP_JSON["env"]["REDIS_TLS_VERIFY"]["value"] == "false"  # heroku-redis: a self-signed certificate


def test_nodejs_builds_the_vendored_bundles_before_python():
    assert [pack["url"] for pack in APP_JSON["buildpacks"]] == ["heroku/nodejs", "heroku/python"]


def test_app_json_asks_for_postgresql_and_redis():
    assert sorted(addon["plan"] if isinstance(addon, dict) else addon for addon in APP_JSON["addons"]) == \
        ["heroku-postgresql", "heroku-redis"]


def test_the_release_step_migrates_the_database():
    procfile = dict(line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert procfile["release"] == "flask --app wsgi db upgrade"
    assert procfile["web"].startswith("gunicorn wsgi:app ") and "$PORT" in procfile["web"]


def test_python_version_is_a_major_version_the_package_supports():
    version = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.\d+", version)
    requires = re.search(r"python_requires\s*=\s*>=\s*(3\.\d+)", (ROOT / "setup.cfg").read_text()).group(1)
    assert tuple(map(int, version.split("."))) >= tuple(map(int, requires.split(".")))
