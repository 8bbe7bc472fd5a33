"""Less leaks (issue 12, item 9): what anyone, an agent or our logs get to read.

/healthz names a failed dependency but not where it lives; Twilio's raw errors (our account's SID and
resource paths) stay in the log; message webhooks log no body and no number; HSTS on https; the CSP
lets the page connect only to our own socket and to what Twilio's Voice SDK needs.
"""
import logging
import re

import pytest

from tests.helpers import CONTACT_PHONE, HUBSPOT_API, TEST_SETTINGS, TWILIO_API
from widget_app.core.phone import masked
from widget_app.hubspot import contacts
from widget_app.models import PermissionRequest

ACCOUNT_SID = TEST_SETTINGS["TWILIO_ACCOUNT_SID"]
BROWSER_LEG = "CA" + "b" * 32
NOT_FOUND = {"code": 20404, "status": 404, "more_info": "https://www.twilio.com/docs/errors/20404",
             "message": f"The requested resource /2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{BROWSER_LEG}.json "
                        "was not found"}


def test_healthz_names_the_failed_dependency_but_not_its_host_or_port(make_app):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "failed": {"redis": "unavailable"}}
    assert b"127.0.0.1" not in response.data


def test_twilios_raw_error_with_the_account_sid_is_not_shown_to_the_agent(client, auth_headers, make_call,
                                                                           http_mock, caplog):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, status="ringing")
    http_mock.post(f"{TWILIO_API}/Calls/{BROWSER_LEG}.json", status=404, json=NOT_FOUND)
    with caplog.at_level(logging.WARNING):
        response = client.post("/api/calls/end", json={"call_id": call.id}, headers=auth_headers)
    assert response.status_code == 502
    error = response.json["error"]
    assert error["twilio_code"] == 20404 and "20404" in error["message"]
    assert ACCOUNT_SID not in response.text and "/Accounts/" not in response.text and BROWSER_LEG not in response.text
    assert ACCOUNT_SID in caplog.text  # the operator still sees everything Twilio said


def test_a_refused_permission_request_keeps_twilios_account_paths_from_the_widget(client, auth_headers, http_mock):
    http_mock.post(f"{TWILIO_API}/Messages.json", status=400, json={
        "code": 21211, "status": 400, "more_info": "https://www.twilio.com/docs/errors/21211",
        "message": f"Invalid 'To' Phone Number for /2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"})
    response = client.post("/api/permissions/request", json={"phone": CONTACT_PHONE}, headers=auth_headers)
    assert response.status_code == 502 and "Invalid 'To' Phone Number" in response.json["error"]["message"]
    status = client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=auth_headers)
    for text in (response.text, status.text, PermissionRequest.get().error):
        assert ACCOUNT_SID not in text and "/Accounts/" not in text


def test_an_inbound_message_body_is_not_logged(messaging_post, caplog):
    with caplog.at_level(logging.INFO):  # the level create_app logs at (peewee logs SQL at DEBUG)
        assert messaging_post(Body="my card number is 4111 1111 1111 1111").status_code == 200
    assert "4111" not in caplog.text


def test_a_message_status_callback_logs_neither_the_contacts_number_nor_a_body(twilio_post, caplog):
    form = {"MessageSid": "SM" + "a" * 32, "MessageStatus": "delivered", "To": f"whatsapp:{CONTACT_PHONE}",
            "From": f"whatsapp:{TEST_SETTINGS['TWILIO_WHATSAPP_NUMBER']}", "Body": "private words",
            "AccountSid": ACCOUNT_SID}
    with caplog.at_level(logging.INFO):  # the level create_app logs at (peewee logs SQL at DEBUG)
        assert twilio_post("/twilio/messaging/status", form).status_code == 204
    assert CONTACT_PHONE.lstrip("+") not in caplog.text and "private words" not in caplog.text


def test_hsts_is_sent_when_the_public_base_url_is_https(client):
    assert client.get("/widget").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_no_hsts_on_plain_http(make_app):
    app = make_app(PUBLIC_BASE_URL="http://127.0.0.1:5000")
    assert "Strict-Transport-Security" not in app.test_client().get("/widget").headers


@pytest.mark.parametrize("path", ["/widget", "/api/auth/me"])
def test_csp_connect_src_allows_only_our_own_socket_origin_and_twilio(client, path):
    policy = client.get(path).headers["Content-Security-Policy"]
    connect = re.search(r"connect-src ([^;]+)", policy).group(1).split()
    assert "wss://widget.example.com" in connect
    assert "ws:" not in connect and "wss:" not in connect  # no socket to any host at all
    assert all(source in ("'self'", "wss://widget.example.com") or source.endswith(".twilio.com")
               for source in connect), connect


def test_a_failed_contact_search_does_not_log_the_contacts_number(app_ctx, http_mock, caplog):
    http_mock.post(f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search", status=503,
                   json={"status": "error", "message": "try later"})
    with caplog.at_level(logging.INFO):
        assert contacts.find_contact_by_phone(CONTACT_PHONE, budget=1) is None
    assert "contact search for" in caplog.text  # the operator still sees that it failed
    assert CONTACT_PHONE.lstrip("+") not in caplog.text and CONTACT_PHONE[-6:] not in caplog.text


def test_a_permission_change_is_logged_without_the_contacts_number(client, auth_headers, twilio_messages, caplog):
    with caplog.at_level(logging.INFO):
        assert client.post("/api/permissions/request", json={"phone": CONTACT_PHONE},
                           headers=auth_headers).status_code == 202
    assert "permission " in caplog.text and "-> pending" in caplog.text
    assert CONTACT_PHONE.lstrip("+") not in caplog.text and CONTACT_PHONE[-6:] not in caplog.text


def test_a_masked_number_keeps_the_country_and_the_last_two_digits():
    assert masked("+447400123456") == "+44••••••••56"
    assert masked(None) == "" and masked("+1") == "••"
