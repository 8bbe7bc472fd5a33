"""`flask doctor` checks a live set-up against Twilio and HubSpot (mocked at their real URLs) and says what to fix."""
import pytest
import requests
from responses import matchers

from tests.doctor.conftest import (
    ACCOUNT_DETAILS_URL,
    APP_SID,
    CONTENT_SID,
    CONTENT_URL,
    INTROSPECT_URL,
    SCOPES,
    SENDERS_URL,
    SETTINGS_URL,
    application_body,
    approval_body,
    calling_settings_body,
    content_body,
    doctor,
    fail_lines,
    introspection,
    sender_body,
    senders_page,
    twilio_error,
)
from tests.helpers import PUBLIC_BASE_URL, TEST_SETTINGS, TWILIO_API
from widget_app import db as db_module
from widget_app.db import SchemaVersion
from widget_app.models import Portal


def test_a_correct_live_setup_passes_with_exit_0(app, live_cloud):
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert fail_lines(result.output) == []
    for expected in ("ok    Twilio credentials: account AC", "ok    Twilio API key", f"ok    TwiML App: {APP_SID} sends calls to "
                     f"{PUBLIC_BASE_URL}/twilio/voice", "ok    WhatsApp sender +442071838750: online",
                     "ok    Content template", "ok    Content approval", "ok    HubSpot token: a static token, valid for portal 987654",
                     f"ok    HubSpot calling settings: url is {PUBLIC_BASE_URL}/widget", "ok    HubSpot isReady: true",
                     "ok    database: answers"):
        assert expected in result.output


def test_a_misconfigured_setup_prints_each_problem_with_its_fix_and_exits_1(app, live_cloud):
    live_cloud(f"{TWILIO_API}/Applications/{APP_SID}.json", 200, application_body(voice_url="https://old.example.com/voice"))
    live_cloud(SENDERS_URL, 200, senders_page(sender_body(voice_app=None, callback="https://old.example.com/sms")))
    live_cloud(CONTENT_URL, 200, content_body(actions=[{"type": "URL", "title": "Visit", "url": "https://example.com"}]))
    live_cloud(INTROSPECT_URL, 200, introspection(scopes=["oauth", "crm.objects.contacts.read"]))
    live_cloud(SETTINGS_URL, 200, calling_settings_body(url="https://old.example.com/widget"))
    result = doctor(app)
    assert result.exit_code == 1
    out = result.output
    assert "FAIL  TwiML App: Voice URL is https://old.example.com/voice (POST)" in out
    assert f"fix: set the TwiML App's Voice Request URL to {PUBLIC_BASE_URL}/twilio/voice, method POST" in out
    assert "voice application is (none): inbound calls fail with error 37009" in out
    assert f'"voice_application_sid": "{APP_SID}"' in out
    assert "messaging webhook is https://old.example.com/sms: permission replies never arrive" in out
    assert f"fix: set the sender's webhook URL to {PUBLIC_BASE_URL}/twilio/messaging" in out
    assert f"FAIL  Content template: {CONTENT_SID} has no VOICE_CALL_REQUEST action" in out
    assert "FAIL  HubSpot token: the static token is missing scopes: crm.objects.contacts.write, crm.objects.owners.read" in out
    assert f"fix: run `flask --app wsgi hubspot settings update --url {PUBLIC_BASE_URL}/widget`" in out
    assert len(fail_lines(out)) == 6
    assert all(line.strip().startswith("fix: ") for line in _lines_after_fails(out))
    assert "doctor: 6 problem(s)" in out


def _lines_after_fails(output):
    lines = output.splitlines()
    return [lines[i + 1] for i, line in enumerate(lines) if line.startswith("FAIL")]


def test_wrong_twilio_credentials_name_the_settings_and_skip_the_twilio_checks_that_need_them(make_app, live_cloud):
    app = make_app(TWILIO_AUTH_TOKEN="not-the-token")
    result = doctor(app)
    assert result.exit_code == 1
    assert "FAIL  Twilio credentials: TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN rejected (401)" in result.output
    assert "fix: copy the Account SID and Auth Token from Twilio Console" in result.output
    assert "TwiML App" not in result.output and "WhatsApp sender" not in result.output
    assert "ok    HubSpot token" in result.output  # HubSpot is still checked


def test_a_rejected_api_key_is_named(make_app, live_cloud):
    result = doctor(make_app(TWILIO_API_KEY_SECRET="wrong-secret-0000000000000000000"))
    assert result.exit_code == 1
    assert "FAIL  Twilio API key: TWILIO_API_KEY_SID / TWILIO_API_KEY_SECRET rejected (401)" in result.output


def test_a_suspended_account_fails(app, live_cloud, http_mock):
    http_mock.replace("GET", f"{TWILIO_API}.json", json={"sid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "status": "suspended"})
    result = doctor(app)
    assert "FAIL  Twilio account:" in result.output and "is suspended" in result.output


def test_a_missing_twiml_app_says_how_to_create_it(app, live_cloud):
    live_cloud(f"{TWILIO_API}/Applications/{APP_SID}.json", 404,
               twilio_error(404, 20404, "The requested resource was not found"))
    result = doctor(app)
    assert result.exit_code == 1
    assert f"FAIL  TwiML App: {APP_SID} does not exist in this account" in result.output
    assert "create a TwiML App" in result.output


def test_a_twiml_app_calling_by_get_fails(app, live_cloud):
    live_cloud(f"{TWILIO_API}/Applications/{APP_SID}.json", 200, application_body(voice_method="GET"))
    assert "FAIL  TwiML App: Voice URL is" in doctor(app).output


def test_a_sender_this_account_does_not_have_fails(app, live_cloud):
    live_cloud(SENDERS_URL, 200, senders_page(sender_body(number="+15550001111")))
    result = doctor(app)
    assert "FAIL  WhatsApp sender +442071838750: not a WhatsApp sender of this Twilio account" in result.output


def test_every_sender_in_the_numbers_table_is_checked(app, db, live_cloud):
    from widget_app.models import PhoneNumber
    PhoneNumber.create(e164="+15557654321", friendly_name="US sales")
    result = doctor(app)
    assert "ok    WhatsApp sender +442071838750: online" in result.output
    assert "FAIL  WhatsApp sender +15557654321: not a WhatsApp sender" in result.output


def test_an_offline_sender_fails(app, live_cloud):
    live_cloud(SENDERS_URL, 200, senders_page(sender_body(status="OFFLINE")))
    assert "FAIL  WhatsApp sender +442071838750: status is OFFLINE" in doctor(app).output


def test_a_missing_content_template_fails(app, live_cloud):
    live_cloud(CONTENT_URL, 404, twilio_error(404, 20404, "The requested resource was not found"))
    result = doctor(app)
    assert f"FAIL  Content template: {CONTENT_SID} does not exist" in result.output


@pytest.mark.parametrize("state, line, exit_code", [
    ("rejected", "FAIL  Content approval: WhatsApp rejected the template (INVALID_FORMAT)", 1),
    ("unsubmitted", "FAIL  Content approval: not approved (unsubmitted)", 1),
    ("pending", "warn  Content approval: WhatsApp's review is pending", 0),
])
def test_the_templates_whatsapp_approval_is_reported(app, live_cloud, state, line, exit_code):
    live_cloud(f"{CONTENT_URL}/ApprovalRequests", 200, approval_body(status=state, reason="INVALID_FORMAT"))
    result = doctor(app)
    assert line in result.output
    assert result.exit_code == exit_code


def test_a_token_hubspot_neither_introspects_nor_accepts_fails(app, live_cloud, http_mock):
    live_cloud(INTROSPECT_URL, 401, {"status": "error", "message": "Authentication credentials not found.",
                                     "correlationId": "c0ffee", "category": "INVALID_AUTHENTICATION"})
    http_mock.get(ACCOUNT_DETAILS_URL, status=401, json={"status": "error", "message": "Authentication credentials not found.",
                                                         "correlationId": "c0ffee", "category": "INVALID_AUTHENTICATION"})
    result = doctor(app)
    assert "FAIL  HubSpot token: HubSpot does not know HUBSPOT_ACCESS_TOKEN (401)" in result.output
    assert "crm.objects.owners.read" in result.output  # the fix names the scopes to grant
    assert "Service Key" in result.output  # and what to create in 2026


def test_a_service_key_is_named_and_its_missing_scopes_listed(app, live_cloud):
    live_cloud(INTROSPECT_URL, 200, introspection(token_type="service_key", app_id=None,
                                                  scopes=["crm.objects.contacts.read", "crm.objects.contacts.write"]))
    result = doctor(app)
    assert "FAIL  HubSpot token: the Service Key is missing scopes: crm.objects.owners.read" in result.output


def test_a_service_key_with_every_scope_passes(app, live_cloud):
    live_cloud(INTROSPECT_URL, 200, introspection(token_type="service_key", app_id=None,
                                                  scope="crm.objects.contacts.read crm.objects.contacts.write "
                                                        "crm.objects.owners.read", scopes=None))
    result = doctor(app)
    assert "ok    HubSpot token: a Service Key, valid for portal 987654, with the scopes we need" in result.output
    assert result.exit_code == 0, result.output


def test_a_legacy_private_app_token_still_works_and_is_named(make_app, live_cloud, http_mock):
    app = make_app(HUBSPOT_ACCESS_TOKEN="pat-na1-11111111-2222-3333-4444-555555555555")
    http_mock.add("POST", INTROSPECT_URL, json=introspection(), match=[matchers.urlencoded_params_matcher(
        {"token": "pat-na1-11111111-2222-3333-4444-555555555555", "token_type_hint": "access_token",
         "client_id": TEST_SETTINGS["HUBSPOT_CLIENT_ID"], "client_secret": TEST_SETTINGS["HUBSPOT_CLIENT_SECRET"]})])
    result = doctor(app)
    assert "ok    HubSpot token: a private-app token (legacy), valid for portal 987654" in result.output
    assert "pat-na1-1111" not in result.output


def test_a_token_hubspot_calls_inactive_fails(app, live_cloud):
    live_cloud(INTROSPECT_URL, 200, {"active": False})
    result = doctor(app)
    assert "FAIL  HubSpot token: HubSpot says HUBSPOT_ACCESS_TOKEN is not active" in result.output


def test_an_oauth_access_token_as_the_static_token_is_a_warning(app, live_cloud):
    live_cloud(INTROSPECT_URL, 200, introspection(client_id="test-client-id", expires_in=1200))
    result = doctor(app)
    assert "warn  HubSpot token kind: HUBSPOT_ACCESS_TOKEN is an OAuth access token: it expires" in result.output


def test_a_working_token_hubspot_will_not_introspect_is_a_warning_with_unchecked_scopes(app, live_cloud, http_mock):
    live_cloud(INTROSPECT_URL, 400, {"status": "error", "message": "client_id is required", "correlationId": "c0ffee",
                                     "category": "VALIDATION_ERROR"})
    http_mock.get(ACCOUNT_DETAILS_URL, json={"portalId": 987654, "accountType": "STANDARD", "timeZone": "Europe/London"},
                  match=[matchers.header_matcher({"Authorization": f"Bearer {TEST_SETTINGS['HUBSPOT_ACCESS_TOKEN']}"})])
    result = doctor(app)
    assert "warn  HubSpot token: valid for portal 987654, but HubSpot would not introspect it (400)" in result.output
    assert result.exit_code == 0, result.output


def test_oauth_without_an_installed_portal_says_how_to_install(make_app, live_cloud):
    result = doctor(make_app(HUBSPOT_ACCESS_TOKEN=None))
    assert "FAIL  HubSpot: no HUBSPOT_ACCESS_TOKEN and no portal installed through OAuth" in result.output
    assert f"{PUBLIC_BASE_URL}/hubspot/oauth/install" in result.output


def test_oauth_with_an_installed_portal_passes(make_app, live_cloud):
    app = make_app(HUBSPOT_ACCESS_TOKEN=None)
    with app.extensions["database"].connection_context():
        Portal.create(portal_id="987654", access_token="at", refresh_token="rt")
    result = doctor(app)
    assert "ok    HubSpot: 1 portal(s) installed through OAuth" in result.output
    assert result.exit_code == 0


def test_unregistered_calling_settings_fail(app, live_cloud):
    live_cloud(SETTINGS_URL, 404, {"status": "error", "message": "Resource not found", "correlationId": "c0ffee",
                                   "category": "OBJECT_NOT_FOUND"})
    result = doctor(app)
    assert "FAIL  HubSpot calling settings: app 123456 has no calling extension registered" in result.output
    assert "fix: run `flask --app wsgi hubspot settings create`" in result.output


def test_is_ready_false_fails_in_production_and_passes_while_testing(app, live_cloud):
    live_cloud(SETTINGS_URL, 200, calling_settings_body(ready=False))
    result = doctor(app)
    assert result.exit_code == 1
    assert "FAIL  HubSpot isReady: isReady is false, expected true" in result.output
    assert "hubspot settings update --ready" in result.output
    testing = doctor(app, "--testing")
    assert testing.exit_code == 0, testing.output
    assert "ok    HubSpot isReady: false" in testing.output


def test_is_ready_true_while_testing_fails(app, live_cloud):
    result = doctor(app, "--testing")
    assert "FAIL  HubSpot isReady: isReady is true, expected false" in result.output


def test_inbound_calling_off_is_a_warning(app, live_cloud):
    live_cloud(SETTINGS_URL, 200, calling_settings_body(inbound=False))
    result = doctor(app)
    assert "warn  HubSpot inbound calling: supportsInboundCalling is false" in result.output
    assert result.exit_code == 0


def test_demo_mode_has_nothing_live_to_check(make_app):
    result = doctor(make_app(WIDGET_MODE="demo"))
    assert result.exit_code == 1
    assert "FAIL  mode: WIDGET_MODE is demo" in result.output


@pytest.mark.parametrize("base", ["http://widget.example.com", "https://localhost:5000", "https://widget.example.com/app"])
def test_a_public_base_url_twilio_cannot_use_fails(make_app, base):
    result = doctor(make_app(PUBLIC_BASE_URL=base))
    assert result.exit_code == 1
    assert "FAIL  PUBLIC_BASE_URL:" in result.output


def test_a_schema_behind_the_code_says_to_upgrade(app, db, live_cloud):
    latest = max(step[0] for step in db_module.MIGRATIONS)
    SchemaVersion.delete().where(SchemaVersion.version == latest).execute()
    db.close()
    result = doctor(app)
    assert "FAIL  database: schema version" in result.output
    assert "flask --app wsgi db upgrade" in result.output


def test_twilio_not_answering_is_a_failure_not_a_traceback(app, live_cloud, http_mock):
    http_mock.replace("GET", f"{TWILIO_API}.json", body=requests.ConnectionError("connection refused"))
    result = doctor(app)
    assert result.exit_code == 1
    assert "FAIL  Twilio credentials: no answer (ConnectionError)" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_hubspot_timing_out_is_a_failure_not_a_traceback(app, live_cloud, http_mock):
    http_mock.replace("POST", INTROSPECT_URL, body=requests.ReadTimeout("read timed out"))
    result = doctor(app)
    assert "FAIL  HubSpot token: no answer (ReadTimeout)" in result.output


def test_redis_that_does_not_answer_fails(make_app, live_cloud):
    result = doctor(make_app(REDIS_URL="redis://127.0.0.1:1/0"))
    assert "FAIL  Redis: REDIS_URL does not answer" in result.output


def test_no_redis_is_a_warning_only(app, live_cloud):
    result = doctor(app)
    assert "warn  Redis: REDIS_URL is not set" in result.output
    assert result.exit_code == 0


def test_the_required_scopes_are_the_ones_oauth_asks_for():
    from widget_app.doctor.hubspot_checks import REQUIRED_SCOPES
    from widget_app.hubspot.routes import SCOPES as OAUTH_SCOPES
    assert set(REQUIRED_SCOPES) <= set(OAUTH_SCOPES.split()) and set(SCOPES) == set(OAUTH_SCOPES.split())
