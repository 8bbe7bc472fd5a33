"""Every HubSpot path is on one date-based API version (HUBSPOT_API_VERSION): none of v1-v4 is left, which
HubSpot stops supporting in 2027 (issue 20, item 1)."""
import pathlib
import re

import pytest
from responses import matchers

from tests.helpers import HUBSPOT_API
from widget_app.config import ConfigError
from widget_app.hubspot.engagements import drain, enqueue_call_sync
from widget_app.hubspot.urls import HubSpotPaths
from widget_app.models import EngagementSync

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSIONED = re.compile(r"/v[1-4]/")
# Only Twilio's APIs keep /v1/ and /v2/ paths (messaging.twilio.com/v2, content.twilio.com/v1).
NOT_HUBSPOT = ("twilio.com",)


def shipped_files():
    for folder, patterns in (("widget_app", ("*.py",)), ("templates", ("*.html",)), ("static/js", ("*.js",)),
                             ("static/css", ("*.css",))):
        for pattern in patterns:
            yield from (ROOT / folder).rglob(pattern)


def test_no_hubspot_path_on_v1_to_v4_is_left_in_the_code():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for path in shipped_files()
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if VERSIONED.search(line) and not any(host in line for host in NOT_HUBSPOT)]
    assert found == []


def test_the_paths_of_one_version():
    paths = HubSpotPaths("2026-03")
    assert paths.calls == "/crm/objects/2026-03/calls"
    assert paths.call("17591596434") == "/crm/objects/2026-03/calls/17591596434"
    assert paths.calls_search == "/crm/objects/2026-03/calls/search"
    assert paths.contacts_search == "/crm/objects/2026-03/contacts/search"
    assert paths.tasks == "/crm/objects/2026-03/tasks" and paths.task("7") == "/crm/objects/2026-03/tasks/7"
    assert paths.tasks_search == "/crm/objects/2026-03/tasks/search"
    assert paths.owner("789") == "/crm/owners/2026-03/789"
    assert paths.account_details == "/account-info/2026-03/details"
    assert paths.calling_settings("123456") == "/crm/extensions/calling/2026-03/123456/settings"
    assert paths.calling_settings("123456", "recording") == "/crm/extensions/calling/2026-03/123456/settings/recording"
    assert paths.calling_settings("123456", "channel-connection") == \
        "/crm/extensions/calling/2026-03/123456/settings/channel-connection"
    assert paths.recordings_ready == "/crm/extensions/calling/2026-03/recordings/ready"
    assert paths.oauth_token == "/oauth/2026-03/token"
    assert paths.token_introspect == "/oauth/2026-03/token/introspect"


def test_an_id_is_always_one_path_segment():
    assert HubSpotPaths("2026-03").owner("1/../../x") == "/crm/owners/2026-03/1%2F..%2F..%2Fx"


def test_the_version_is_one_setting_every_write_follows(app, app_ctx, make_call, http_mock):
    app.config["HUBSPOT_API_VERSION"] = "2026-09"
    created = {"id": "17591596434", "properties": {}, "createdAt": "2026-11-29T12:00:00Z",
               "updatedAt": "2026-11-29T12:00:00Z", "archived": False}
    association = [{"to": {"id": "104901"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}]
    http_mock.post(f"{HUBSPOT_API}/crm/objects/2026-09/calls", status=201, json=created,
                   match=[matchers.json_params_matcher({"associations": association}, strict_match=False)])
    http_mock.post(f"{HUBSPOT_API}/crm/extensions/calling/2026-09/recordings/ready", status=204,
                   match=[matchers.json_params_matcher({"engagementId": 17591596434})])
    call = make_call(contact_id="104901", recording_sid="RE" + "a" * 32,
                     recording_url=f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Recordings/RE{'a' * 32}")
    enqueue_call_sync(call)
    drain(app)
    assert EngagementSync.get(EngagementSync.call == call.id).status == "done"
    assert [c.request.url for c in http_mock.calls] == [f"{HUBSPOT_API}/crm/objects/2026-09/calls",
                                                        f"{HUBSPOT_API}/crm/extensions/calling/2026-09/recordings/ready"]


@pytest.mark.parametrize("version", ["v3", "2026-3", "latest", "2026-03/../v3"])
def test_a_version_that_is_not_a_date_stops_the_app_at_start(make_app, version):
    with pytest.raises(ConfigError, match="HUBSPOT_API_VERSION"):
        make_app(HUBSPOT_API_VERSION=version)


def test_no_test_mocks_hubspot_on_v1_to_v4():
    """A test mocking a HubSpot URL the code no longer calls would pass for the wrong reason (an unmatched
    mock is just "HubSpot unreachable"): every HubSpot URL a test names is on the date-based version."""
    hubspot_url = re.compile(r"(HUBSPOT_API\}|api\.hubapi\.com)[^\"'\s]*/v[1-4]/")
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for folder in ("tests", "bench") for path in (ROOT / folder).rglob("*.py") if path.name != "test_urls.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if hubspot_url.search(line)]
    assert found == []
