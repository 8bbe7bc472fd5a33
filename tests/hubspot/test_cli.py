"""`flask hubspot settings|channel-connection|recording-settings`: the exact requests HubSpot gets."""
import pytest
from responses import matchers

from tests.helpers import HUBSPOT_API, PUBLIC_BASE_URL

SETTINGS = f"{HUBSPOT_API}/crm/extensions/calling/2026-03/123456/settings"
KEY = {"hapikey": "test-dev-key"}
STAMPS = {"createdAt": "2025-05-01T12:00:00Z", "updatedAt": "2025-05-01T12:00:00Z"}
DEFAULTS = {"name": "WhatsApp Calls", "url": f"{PUBLIC_BASE_URL}/widget", "width": 400, "height": 600,
            "isReady": False, "supportsCustomObjects": False, "supportsInboundCalling": True,
            "usesCallingWindow": True, "usesRemote": True}


def expect(http_mock, method, url, body=None, status=200, answer=None):
    """Register the one request the command must make: hapikey on the query, exactly this JSON."""
    match = [matchers.query_param_matcher(KEY)]
    if body is not None:
        match.append(matchers.json_params_matcher(body))
    if answer is None and status != 204:
        answer = {**(body or {}), **STAMPS}
    http_mock.add(method, url, json=answer, status=status, match=match)


def test_settings_create_sends_all_nine_fields_not_ready(runner, http_mock):
    expect(http_mock, "POST", SETTINGS, DEFAULTS)
    result = runner.invoke(args=["hubspot", "settings", "create"])
    assert result.exit_code == 0, result.output
    assert len(http_mock.calls) == 1
    assert "isReady: false" in result.output
    assert f"url: {PUBLIC_BASE_URL}/widget" in result.output
    assert "createdAt: 2025-05-01T12:00:00Z" in result.output


def test_settings_create_takes_every_override(runner, http_mock):
    body = {"name": "Calls", "url": "https://other.example.com/w", "width": 350, "height": 700,
            "isReady": True, "supportsCustomObjects": True, "supportsInboundCalling": False,
            "usesCallingWindow": False, "usesRemote": False}
    expect(http_mock, "POST", SETTINGS, body)
    result = runner.invoke(args=["hubspot", "settings", "create", "--name", "Calls", "--url",
                                 "https://other.example.com/w", "--width", "350", "--height", "700", "--ready",
                                 "--custom-objects", "--no-inbound", "--no-calling-window", "--no-remote"])
    assert result.exit_code == 0, result.output
    assert len(http_mock.calls) == 1


def test_settings_update_patches_only_what_was_given(runner, http_mock):
    expect(http_mock, "PATCH", SETTINGS, {"isReady": True}, answer={**DEFAULTS, "isReady": True, **STAMPS})
    result = runner.invoke(args=["hubspot", "settings", "update", "--ready"])
    assert result.exit_code == 0, result.output
    assert "isReady: true" in result.output


def test_settings_update_with_nothing_to_change_sends_nothing(runner, http_mock):
    result = runner.invoke(args=["hubspot", "settings", "update"])
    assert result.exit_code != 0
    assert "Nothing to update" in result.output
    assert len(http_mock.calls) == 0


def test_settings_get_prints_key_value_lines(runner, http_mock):
    expect(http_mock, "GET", SETTINGS, answer={**DEFAULTS, **STAMPS})
    result = runner.invoke(args=["hubspot", "settings", "get"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[:3] == ["name: WhatsApp Calls", f"url: {PUBLIC_BASE_URL}/widget", "width: 400"]


def test_settings_delete(runner, http_mock):
    expect(http_mock, "DELETE", SETTINGS, status=204)
    result = runner.invoke(args=["hubspot", "settings", "delete"])
    assert result.exit_code == 0, result.output
    assert "Deleted" in result.output


def test_hubspots_error_message_is_shown_as_it_is(runner, http_mock):
    error = {"status": "error", "message": "Calling extension settings already exist for app 123456",
             "correlationId": "a43683b0-5717-4ceb-80b4-104d02915d8c", "category": "VALIDATION_ERROR"}
    expect(http_mock, "POST", SETTINGS, DEFAULTS, status=400, answer=error)
    result = runner.invoke(args=["hubspot", "settings", "create"])
    assert result.exit_code == 1
    assert "Calling extension settings already exist for app 123456" in result.output


def test_channel_connection_commands(runner, http_mock):
    url = f"{SETTINGS}/channel-connection"
    ours = f"{PUBLIC_BASE_URL}/hubspot/channel-connection"
    expect(http_mock, "POST", url, {"url": ours, "isReady": False})
    expect(http_mock, "PATCH", url, {"isReady": True}, answer={"url": ours, "isReady": True, **STAMPS})
    expect(http_mock, "GET", url, answer={"url": ours, "isReady": True, **STAMPS})
    expect(http_mock, "DELETE", url, status=204)
    for args in (["create"], ["update", "--ready"], ["get"], ["delete"]):
        result = runner.invoke(args=["hubspot", "channel-connection", *args])
        assert result.exit_code == 0, (args, result.output)
    assert [call.request.method for call in http_mock.calls] == ["POST", "PATCH", "GET", "DELETE"]
    assert f"url: {ours}" in runner.invoke(args=["hubspot", "channel-connection", "get"]).output


def test_recording_settings_commands(runner, http_mock):
    url = f"{SETTINGS}/recording"
    body = {"urlToRetrieveAuthedRecording": f"{PUBLIC_BASE_URL}/hubspot/recordings/%s"}
    expect(http_mock, "POST", url, body, answer=body)
    expect(http_mock, "PATCH", url, body, answer=body)
    expect(http_mock, "GET", url, answer=body)
    for args in (["create"], ["update"], ["get"]):
        result = runner.invoke(args=["hubspot", "recording-settings", *args])
        assert result.exit_code == 0, (args, result.output)
        assert f"urlToRetrieveAuthedRecording: {PUBLIC_BASE_URL}/hubspot/recordings/%s" in result.output
    assert len(http_mock.calls) == 3


@pytest.mark.parametrize("url", ["https://x.example.com/recordings", "http://x.example.com/recordings/%s"])
def test_recording_url_must_be_https_with_a_placeholder(runner, http_mock, url):
    result = runner.invoke(args=["hubspot", "recording-settings", "create", "--url", url])
    assert result.exit_code != 0
    assert "%s" in result.output
    assert len(http_mock.calls) == 0


NO_PUBLIC_URL = {"WIDGET_MODE": "demo", "PUBLIC_BASE_URL": None}  # live mode refuses to start without it


@pytest.mark.parametrize("missing, overrides, args", [
    ("HUBSPOT_APP_ID", {"HUBSPOT_APP_ID": None}, ["settings", "get"]),
    ("HUBSPOT_DEVELOPER_API_KEY", {"HUBSPOT_DEVELOPER_API_KEY": None}, ["channel-connection", "get"]),
    ("PUBLIC_BASE_URL", NO_PUBLIC_URL, ["settings", "create"]),
    ("PUBLIC_BASE_URL", NO_PUBLIC_URL, ["channel-connection", "create"]),
    ("PUBLIC_BASE_URL", NO_PUBLIC_URL, ["recording-settings", "create"]),
])
def test_missing_settings_are_named(make_app, http_mock, missing, overrides, args):
    app = make_app(**overrides)
    result = app.test_cli_runner().invoke(args=["hubspot", *args])
    assert result.exit_code == 1
    assert f"{missing} is not set" in result.output
    assert len(http_mock.calls) == 0


def test_demo_modes_stand_in_key_is_not_sent_to_hubspot(make_app, http_mock):
    app = make_app(WIDGET_MODE="demo", HUBSPOT_DEVELOPER_API_KEY=None, TWILIO_ACCOUNT_SID=None)
    result = app.test_cli_runner().invoke(args=["hubspot", "settings", "get"])
    assert result.exit_code == 1
    assert "HUBSPOT_DEVELOPER_API_KEY is not set" in result.output
    assert len(http_mock.calls) == 0
