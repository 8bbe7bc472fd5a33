"""The HubSpot section: portals and their token health, the outbox's pending and failed writes, retry."""
import re
from datetime import timedelta

from tests.admin.conftest import ADMIN_EMAIL, actions
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
