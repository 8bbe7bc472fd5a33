"""Twilio's and HubSpot's APIs as `flask doctor` meets them, mocked at their real URLs with their real JSON.

`live_cloud(http_mock)` registers a correct set-up; a test changes one answer to break one thing.
Twilio checks credentials like the real one: the Basic auth header must carry the account's token
or the API key's secret, else 401 with Twilio's error body.
"""
import base64
import json

import pytest
import responses as responses_lib
from responses import matchers

from tests.helpers import HUBSPOT_API, PUBLIC_BASE_URL, TEST_SETTINGS, TWILIO_API

ACCOUNT = TEST_SETTINGS["TWILIO_ACCOUNT_SID"]
APP_SID = TEST_SETTINGS["TWILIO_TWIML_APP_SID"]
CONTENT_SID = TEST_SETTINGS["TWILIO_PERMISSION_CONTENT_SID"]
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
SENDERS_URL = "https://messaging.twilio.com/v2/Channels/Senders"
CONTENT_URL = f"https://content.twilio.com/v1/Content/{CONTENT_SID}"
INTROSPECT_URL = f"{HUBSPOT_API}/oauth/2026-03/token/introspect"
ACCOUNT_DETAILS_URL = f"{HUBSPOT_API}/account-info/2026-03/details"
SETTINGS_URL = f"{HUBSPOT_API}/crm/extensions/calling/2026-03/{TEST_SETTINGS['HUBSPOT_APP_ID']}/settings"
SCOPES = ["oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read"]


def introspection(**fields):
    """token/introspect's answer for an active static token (reference §4.2; the fields a Service Key shows vary)."""
    return {"active": True, "hub_id": 987654, "app_id": 111, "user_id": 4242, "scopes": SCOPES,
            "token_type": "bearer", "token_use": "access_token", **fields}


def twilio_error(status, code, message):
    """Twilio's error body (code, message, more_info, status)."""
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def account_body(status="active"):
    return {"sid": ACCOUNT, "owner_account_sid": ACCOUNT, "friendly_name": "Sales", "status": status, "type": "Full",
            "date_created": "Tue, 04 Mar 2025 10:00:00 +0000", "date_updated": "Tue, 04 Mar 2025 10:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}.json", "subresource_uris": {"calls": f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"}}


def application_body(voice_url=PUBLIC_BASE_URL + "/twilio/voice", voice_method="POST"):
    return {"account_sid": ACCOUNT, "api_version": "2010-04-01", "friendly_name": "WhatsApp widget", "sid": APP_SID,
            "voice_url": voice_url, "voice_method": voice_method, "voice_fallback_url": None, "voice_fallback_method": "POST",
            "status_callback": None, "status_callback_method": "POST", "voice_caller_id_lookup": False,
            "sms_url": None, "sms_method": "POST", "sms_fallback_url": None, "sms_fallback_method": "POST",
            "sms_status_callback": None, "message_status_callback": None, "public_application_connect_enabled": True,
            "date_created": "Tue, 04 Mar 2025 10:00:00 +0000", "date_updated": "Tue, 04 Mar 2025 10:00:00 +0000",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Applications/{APP_SID}.json"}


def sender_body(number=SENDER, status="ONLINE", voice_app=APP_SID, callback=PUBLIC_BASE_URL + "/twilio/messaging"):
    sid = "XE" + "a" * 32
    return {"sid": sid, "status": status, "sender_id": f"whatsapp:{number}",
            "configuration": {"waba_id": "1234567890", "verification_method": "sms", "verification_code": None,
                              "voice_application_sid": voice_app},
            "webhook": {"callback_url": callback, "callback_method": "POST", "fallback_url": None, "fallback_method": "POST",
                        "status_callback_url": None, "status_callback_method": "POST"},
            "profile": {"name": "Acme Sales", "about": None, "address": None, "emails": None, "vertical": "Retail"},
            "properties": {"quality_rating": "HIGH", "messaging_limit": "10K Customers/24hr"},
            "offline_reasons": None, "compliance": None, "url": f"{SENDERS_URL}/{sid}"}


def senders_page(*senders):
    url = f"{SENDERS_URL}?Channel=whatsapp&PageSize=100&Page=0"
    return {"senders": list(senders), "meta": {"page": 0, "page_size": 100, "first_page_url": url, "previous_page_url": None,
                                               "url": url, "next_page_url": None, "key": "senders"}}


def content_body(actions=({"type": "VOICE_CALL_REQUEST", "title": "Call Request"},)):
    return {"sid": CONTENT_SID, "account_sid": ACCOUNT, "friendly_name": "call_permission_request", "language": "en",
            "variables": {}, "types": {"twilio/call-to-action": {"body": "May we call you on WhatsApp?", "actions": list(actions)}},
            "url": CONTENT_URL, "date_created": "2025-03-04T10:00:00Z", "date_updated": "2025-03-04T10:00:00Z",
            "links": {"approval_fetch": f"{CONTENT_URL}/ApprovalRequests", "approval_create": f"{CONTENT_URL}/ApprovalRequests/whatsapp"}}


def approval_body(status="approved", reason=""):
    return {"sid": CONTENT_SID, "account_sid": ACCOUNT, "url": f"{CONTENT_URL}/ApprovalRequests",
            "whatsapp": {"category": "UTILITY", "status": status, "name": "call_permission_request", "type": "whatsapp",
                         "content_type": "twilio/call-to-action", "rejection_reason": reason, "allow_category_change": True}}


def calling_settings_body(url=PUBLIC_BASE_URL + "/widget", ready=True, inbound=True):
    return {"name": "WhatsApp Calls", "url": url, "height": 600, "width": 400, "isReady": ready,
            "supportsCustomObjects": False, "supportsInboundCalling": inbound, "usesCallingWindow": True, "usesRemote": False,
            "createdAt": "2025-03-04T10:00:00Z", "updatedAt": "2025-03-04T10:00:00Z"}


def basic_auth_of(request) -> tuple[str, str]:
    user, _, password = base64.b64decode(request.headers["Authorization"].split()[1]).decode().partition(":")
    return user, password


@pytest.fixture
def live_cloud(http_mock):
    """Register a correct live set-up; returns a function that replaces one answer (url, status, body)."""
    valid = {(ACCOUNT, TEST_SETTINGS["TWILIO_AUTH_TOKEN"]), (TEST_SETTINGS["TWILIO_API_KEY_SID"], TEST_SETTINGS["TWILIO_API_KEY_SECRET"])}

    def account(request):
        if basic_auth_of(request) not in valid:
            return 401, {}, json.dumps(twilio_error(401, 20003, "Authenticate"))
        return 200, {}, json.dumps(account_body())

    http_mock.add_callback(responses_lib.GET, f"{TWILIO_API}.json", callback=account, content_type="application/json")
    answers = {
        ("GET", f"{TWILIO_API}/Applications/{APP_SID}.json"): (200, application_body()),
        ("GET", SENDERS_URL): (200, senders_page(sender_body())),
        ("GET", CONTENT_URL): (200, content_body()),
        ("GET", f"{CONTENT_URL}/ApprovalRequests"): (200, approval_body()),
        ("POST", INTROSPECT_URL): (200, introspection()),
        ("GET", SETTINGS_URL): (200, calling_settings_body()),
    }
    extra_matchers = {
        SENDERS_URL: [matchers.query_param_matcher({"Channel": "whatsapp", "PageSize": "100"})],
        INTROSPECT_URL: [matchers.urlencoded_params_matcher({
            "token": TEST_SETTINGS["HUBSPOT_ACCESS_TOKEN"], "token_type_hint": "access_token",
            "client_id": TEST_SETTINGS["HUBSPOT_CLIENT_ID"], "client_secret": TEST_SETTINGS["HUBSPOT_CLIENT_SECRET"]})],
        SETTINGS_URL: [matchers.query_param_matcher({"hapikey": TEST_SETTINGS["HUBSPOT_DEVELOPER_API_KEY"]})],
    }
    registered = {}
    for (method, url), (status, body) in answers.items():
        registered[url] = http_mock.add(method, url, json=body, status=status, match=extra_matchers.get(url, []))

    def replace(url, status, body):
        http_mock.remove(registered[url])
        method = "POST" if url == INTROSPECT_URL else "GET"
        registered[url] = http_mock.add(method, url, json=body, status=status, match=extra_matchers.get(url, []))

    return replace


SECRETS = [TEST_SETTINGS[name] for name in ("TWILIO_AUTH_TOKEN", "TWILIO_API_KEY_SECRET", "HUBSPOT_ACCESS_TOKEN",
                                             "HUBSPOT_DEVELOPER_API_KEY", "HUBSPOT_CLIENT_SECRET", "SECRET_KEY")]


def doctor(app, *args):
    """Run `flask doctor`; no secret of the test settings may appear in what it prints."""
    result = app.test_cli_runner().invoke(args=["doctor", *args])
    for secret in SECRETS:
        assert secret not in result.output
    return result


def fail_lines(output):
    return [line for line in output.splitlines() if line.startswith("FAIL")]
