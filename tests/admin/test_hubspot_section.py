"""The HubSpot section: portals and their token health, the outbox's pending and failed writes, retry."""
import re
from datetime import timedelta
from html import unescape

import requests
from responses import matchers

from tests.admin.conftest import ADMIN_EMAIL, actions
from tests.helpers import HUBSPOT_API, PUBLIC_BASE_URL
from widget_app.core.clock import utcnow
from widget_app.models import EngagementSync, Portal


def outbox_row(call, status, error=None, attempts=3, done=False):
    return EngagementSync.create(call=call, payload={"properties": {}}, status=status, last_error=error,
                                 attempts=attempts, done=done, next_attempt_at=utcnow() + timedelta(minutes=20))


def test_the_portals_and_their_token_health(console, db, admin):
    Portal.create(portal_id="111", access_token="secret-access", expires_at=utcnow() + timedelta(hours=1),
                  installed_by=admin)
    Portal.create(portal_id="222", access_token="x", expires_at=utcnow() - timedelta(minutes=1))
    Portal.create(portal_id="333", needs_reinstall=True)
    html = console.get("/admin/hubspot").get_data(as_text=True)
    health = dict(re.findall(r'<th scope="row">(\d+)</th><td>([^<]+)</td>', html))
    assert health == {"111": "connected", "222": "token expired: refreshed on the next write",
                      "333": "needs reinstall"}
    assert ADMIN_EMAIL in html and 'href="/hubspot/oauth/install"' in html
    assert "secret-access" not in html and "test-hubspot-token" not in html  # never a token on the page


def test_the_outbox_lists_failed_then_pending_writes_and_not_done_ones(console, db, admin, make_call):
    done = outbox_row(make_call(sid="CA" + "1" * 32), "done", done=True)
    pending = outbox_row(make_call(sid="CA" + "2" * 32), "pending", "HubSpot answered 503")
    failed = outbox_row(make_call(sid="CA" + "3" * 32), "failed", "HubSpot answered 400: property hs_call_title is invalid")
    html = console.get("/admin/hubspot").get_data(as_text=True)
    assert "1 pending, 1 failed" in html
    assert html.index(f'id="sync-{failed.id}"') < html.index(f'id="sync-{pending.id}"')
    assert f'id="sync-{done.id}"' not in html
    assert "property hs_call_title is invalid" in html


def test_retry_makes_a_failed_write_due_now_and_is_audited(console, db, admin, make_call):
    call = make_call()
    failed = outbox_row(call, "failed", "HubSpot answered 400")
    assert console.post(f"/admin/hubspot/outbox/{failed.id}/retry").status_code == 302
    row = EngagementSync.get_by_id(failed.id)
    assert (row.status, row.attempts, row.last_error, row.done) == ("pending", 0, None, False)
    assert row.next_attempt_at <= utcnow()
    assert actions()[-1] == (ADMIN_EMAIL, "outbox.retry", f"call {call.id}")


def test_retry_of_a_done_or_unknown_write_is_refused_and_records_nothing(console, db, admin, make_call):
    done = outbox_row(make_call(), "done", done=True)
    before = actions()
    assert console.post(f"/admin/hubspot/outbox/{done.id}/retry").status_code == 409
    assert console.post("/admin/hubspot/outbox/999/retry").status_code == 404
    assert actions() == before


SETTINGS_URL = f"{HUBSPOT_API}/crm/extensions/calling/2026-03/123456/settings"


def test_the_calling_extension_is_shown_as_hubspot_has_it(console, http_mock):
    http_mock.get(SETTINGS_URL, match=[matchers.query_param_matcher({"hapikey": "test-dev-key"})],
                  json={"name": "WhatsApp Calls", "url": f"{PUBLIC_BASE_URL}/widget", "width": 400, "height": 600,
                        "isReady": False, "supportsCustomObjects": False, "supportsInboundCalling": True,
                        "usesCallingWindow": True, "usesRemote": True})
    html = console.get("/admin/hubspot").get_data(as_text=True)
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th><td>([^<]+)</td></tr>', html))
    assert rows["Widget URL HubSpot loads"] == f"{PUBLIC_BASE_URL}/widget"
    assert rows["Production-ready (shown to every user)"] == "no"
    assert rows["Inbound calling"] == "yes" and rows["Height (px)"] == "600"
    assert re.search(r'<p id="extension-problem" hidden>', html)
    assert "test-dev-key" not in html


def test_a_widget_url_that_is_not_ours_is_pointed_out(console, http_mock):
    http_mock.get(SETTINGS_URL, json={"name": "WhatsApp Calls", "url": "https://old.example.com/widget"})
    html = unescape(console.get("/admin/hubspot").get_data(as_text=True))
    assert f"HubSpot loads https://old.example.com/widget, but this server's widget is {PUBLIC_BASE_URL}/widget." in html


def test_hubspots_refusal_is_shown_in_its_own_words(console, http_mock):
    http_mock.get(SETTINGS_URL, status=401, json={"status": "error", "message": "The API key provided is invalid."})
    response = console.get("/admin/hubspot")
    assert response.status_code == 200
    assert "HubSpot answered 401: The API key provided is invalid." in response.get_data(as_text=True)


def test_hubspot_unreachable_still_shows_the_page(console, http_mock):
    http_mock.get(SETTINGS_URL, body=requests.exceptions.ConnectTimeout("no route"))
    response = console.get("/admin/hubspot")
    assert response.status_code == 200
    assert "Could not reach HubSpot: ConnectTimeout" in response.get_data(as_text=True)
