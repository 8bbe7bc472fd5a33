"""hubspot-app/ is the HubSpot app as a developer-platform project (issue 20, item 2), checked offline as far as
HubSpot's app configuration reference allows: HubSpot's own `hs project validate` needs its CLI, a network and
an account (hubspot-app/README.md says what stays unchecked)."""
import json
import pathlib
import re
from urllib.parse import urlparse

import pytest

from widget_app.hubspot.portals import REQUIRED_SCOPES, redirect_uri

PROJECT = pathlib.Path(__file__).resolve().parents[2] / "hubspot-app"
UID = re.compile(r"[A-Za-z0-9_.-]{1,64}")  # "up to 64 characters: letters, digits, _ - ."


def load(path: pathlib.Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


@pytest.fixture(scope="module")
def project() -> dict:
    return load(PROJECT / "hsproject.json")


@pytest.fixture(scope="module")
def app_config(project) -> dict:
    return load(PROJECT / project["srcDir"] / "app" / "app-hsmeta.json")


def test_the_project_file_names_its_source_and_a_platform_version(project):
    assert set(project) == {"name", "srcDir", "platformVersion"}
    assert project["name"] and project["srcDir"] == "src"
    assert project["platformVersion"] == "2025.2"


def test_every_component_under_src_is_an_hsmeta_json_file_that_parses(project):
    files = [path for path in (PROJECT / project["srcDir"]).rglob("*") if path.is_file()]
    assert files == [PROJECT / "src" / "app" / "app-hsmeta.json"]
    for path in files:
        load(path)


def test_the_app_carries_the_keys_hubspot_requires(app_config):
    assert UID.fullmatch(app_config["uid"]) and app_config["type"] == "app"
    config = app_config["config"]
    assert config["name"] == config["name"].strip() and 0 < len(config["name"]) <= 200
    assert 0 < len(config["description"]) <= 8192
    assert config["distribution"] in ("private", "marketplace")
    assert config["auth"]["type"] == "oauth"  # several portals; static auth serves exactly one
    assert set(config["auth"]) == {"type", "redirectUrls", "requiredScopes", "optionalScopes",
                                   "conditionallyRequiredScopes"}
    assert set(config["permittedUrls"]) <= {"fetch", "iframe", "img"}


def test_the_app_asks_for_exactly_the_scopes_the_code_uses(app_config):
    auth = app_config["config"]["auth"]
    assert sorted(auth["requiredScopes"]) == sorted(REQUIRED_SCOPES)
    assert auth["optionalScopes"] == [] and auth["conditionallyRequiredScopes"] == []


def test_the_redirect_url_is_https_and_ends_in_our_oauth_callback_route(app, app_config):
    callback_path = urlparse(redirect_uri(app)).path
    assert any(rule.rule == callback_path for rule in app.url_map.iter_rules())
    for url in app_config["config"]["auth"]["redirectUrls"]:
        parsed = urlparse(url)
        assert parsed.scheme == "https" and parsed.netloc and parsed.path == callback_path
