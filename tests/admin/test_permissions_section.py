"""The permissions section: a number's ledger on a timeline, the verdict now and when it changes."""
import html as markup
import re
from datetime import timedelta

from tests.admin.conftest import ADMIN_EMAIL, actions
from tests.helpers import CONTACT_PHONE
from widget_app.core.clock import utcnow
from widget_app.models import PermissionRequest


def look_up(console, phone):
    response = console.post("/admin/permissions", {"phone": phone})
    return response, response.get_data(as_text=True)


def text_of(html, element_id):
    return re.search(rf'id="{element_id}">([^<]*)<', html).group(1)


def timeline(html):
    body = html[html.index('<table class="data" id="timeline">'):]
    return [(markup.unescape(what), markup.unescape(detail))
            for what, detail in re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]*)</td></tr>", body)]


def test_a_granted_number_shows_its_ledger_and_when_the_grant_ends(console, db, admin, agent, grant_permission,
                                                                    make_call):
    now = utcnow()
    PermissionRequest.create(phone=CONTACT_PHONE, kind="request", agent=agent, status="read", outcome="accepted",
                             created_at=now - timedelta(hours=2), answered_at=now - timedelta(hours=1))
    PermissionRequest.create(phone=CONTACT_PHONE, kind="reply", status="accepted", created_at=now - timedelta(hours=1),
                             expires_at=now + timedelta(days=7))
    permission = grant_permission(hours=72)
    make_call(to_number=CONTACT_PHONE, started_at=now - timedelta(minutes=30), answered_at=now - timedelta(minutes=29),
              duration_seconds=95)
    make_call(direction="inbound", status="no-answer", from_number=CONTACT_PHONE, to_number="+442071838750",
              agent=None, sid="CA" + "9" * 32, started_at=now - timedelta(minutes=10), answered_at=None)

    response, html = look_up(console, "+44 7911 123456")
    assert response.status_code == 200
    assert text_of(html, "permission-status") == "granted"
    assert text_of(html, "can-call") == "allowed"
    assert text_of(html, "changes-at") == permission.expires_at.strftime("%Y-%m-%d %H:%M") + " UTC"
    events = timeline(html)
    assert [what for what, _ in events] == ["permission granted (request)", "inbound call missed",
                                            "outbound call connected", "contact's reply: accepted",
                                            "permission request sent"]
    assert events[1][1] == "status no-answer"
    assert events[2][1] == "placed by Ana Agent, 95 s"
    assert events[4][1] == "by Ana Agent; delivery read; accepted"
    assert actions()[-1] == (ADMIN_EMAIL, "permission.lookup", CONTACT_PHONE)
    assert CONTACT_PHONE not in response.request.url  # the number never went into a URL


def test_a_number_we_never_asked_cannot_be_called_yet(console, db, admin):
    _, html = look_up(console, "+447911123999")
    assert text_of(html, "permission-status") == "none"
    assert text_of(html, "can-call") == "not allowed"
    assert text_of(html, "next-request") == "now"
    assert "Nothing yet" in html


def test_a_bad_number_is_a_400_that_records_nothing(console, db, admin):
    before = actions()
    response, _ = look_up(console, "not a number")
    assert response.status_code == 400
    assert actions() == before
