"""Permission state before Call is pressed, and limit screens that say the rule (issue 14, items 4 and 7): the
keypad says where the typed or HubSpot-sent contact stands, lists the requests still waiting, and a contact
accepting while the rep is elsewhere shows a notice with Call now. A limit names its rule and the time it
lifts once, in the rep's local time; a third unanswered call in a row warns."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    DANA,
    ask_for_permission,
    axe_violations,
    open_simulator,
    sign_in,
    signed_in_keypad,
    wait_for_message,
    widget_frame,
)
from widget_app.core.clock import utcnow
from widget_app.models import Call, Permission, db

pytestmark = pytest.mark.browser
REP_ZONE = "Asia/Kolkata"  # the rep's clock is not the server's UTC (and not a whole hour away)


@pytest.fixture
def rep_page(browser):
    """A rep in India with a 24-hour clock."""
    context = browser.new_context(viewport={"width": 1200, "height": 800}, timezone_id=REP_ZONE, locale="en-GB")
    yield context.new_page()
    context.close()


def local(moment: datetime, today: bool = True) -> str:
    when = moment.astimezone(ZoneInfo(REP_ZONE))
    return when.strftime("%H:%M") if today else when.strftime("%a %H:%M")


def same_local_day(moment: datetime) -> bool:
    return moment.astimezone(ZoneInfo(REP_ZONE)).date() == datetime.now(ZoneInfo(REP_ZONE)).date()


def test_the_keypad_says_where_the_contact_stands_before_call_is_pressed(page, live_server):
    frame, errors = signed_in_keypad(page, live_server)
    expect(frame.locator("#permission-state")).to_have_text("Needs a request")

    ask_for_permission(page, frame)
    frame.click("#screen-pending [data-back]")
    expect(frame.locator("#permission-state")).to_have_text(re.compile(r"^Request sent \d\d:\d\d( [AP]M)?, waiting$"))
    expect(frame.locator("#pending-list li")).to_have_count(1)
    assert "+44 740 012 3456" in frame.text_content("#pending-list li")

    # Typing another number asks again as the digits settle.
    frame.fill("#number", "")
    frame.type("#number", "+14155550100")
    expect(frame.locator("#permission-state")).to_have_text("Needs a request")
    frame.click("#pending-list [data-number]")  # the waiting request's number back on the keypad
    expect(frame.locator("#number")).to_have_value("+44 740 012 3456")
    expect(frame.locator("#permission-state")).to_contain_text("waiting")

    page.click("#contact-declines")
    expect(frame.locator("#permission-state")).to_have_text(re.compile(r"^Declined, ask again after "))
    expect(frame.locator("#pending-requests")).to_be_hidden()
    assert errors == []


def test_a_contact_accepting_while_the_rep_is_elsewhere_shows_call_now(page, live_server):
    frame, errors = signed_in_keypad(page, live_server)
    ask_for_permission(page, frame)
    frame.click("#screen-pending [data-back]")
    frame.click("#show-history")
    frame.wait_for_selector("#screen-history:not([hidden])")

    page.click("#contact-accepts")
    expect(frame.locator("#accepted-notice")).to_be_visible()
    assert frame.text_content("#accepted-text") == "+44 740 012 3456 accepted WhatsApp calls."
    assert frame.is_visible("#screen-history"), "the rep stays where they were"
    assert page.evaluate("document.activeElement.id") == "contact-accepts", "the notice leaves HubSpot's focus alone"
    assert axe_violations(frame) == []

    frame.click("#accepted-call")
    wait_for_message(page, "OUTGOING_CALL_STARTED")
    expect(frame.locator("#accepted-notice")).to_be_hidden()
    assert wait_for_message(page, "OUTGOING_CALL_STARTED")["data"]["toNumber"] == DANA
    frame.wait_for_selector("#screen-calling:not([hidden])", timeout=10000)
    assert errors == []


def test_a_granted_contact_reads_can_call_until_in_the_reps_time(rep_page, live_server):
    with db.connection_context():
        now = utcnow()
        Permission.create(phone=DANA, status="granted", granted_at=now, expires_at=now + timedelta(hours=50),
                          updated_at=now)
    frame, errors = keypad_for(rep_page, live_server)
    end = now + timedelta(hours=50)
    expect(frame.locator("#permission-state")).to_have_text(f"Can call until {local(end, same_local_day(end))}")
    assert errors == []


def keypad_for(page, live_server):
    errors = open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    wait_for_message(page, "LOGGED_IN")
    page.click("#send-dial")
    expect(frame.locator("#number")).to_have_value("+44 740 012 3456")
    return frame, errors


def test_five_connected_calls_name_the_cap_and_the_local_time_it_lifts(rep_page, live_server):
    with db.connection_context():
        now = utcnow()
        Permission.create(phone=DANA, status="granted", granted_at=now - timedelta(hours=21),
                          expires_at=now + timedelta(hours=40), updated_at=now, grant_source="request")
        answered = [now - timedelta(hours=h) for h in (20, 8, 4, 2, 1)]
        for at in answered:
            Call.create(direction="outbound", to_number=DANA, from_number="+447000000001", status="completed",
                        started_at=at, answered_at=at, ended_at=at + timedelta(minutes=3), duration_seconds=180,
                        wrapup="saved")
    lifts = answered[0] + timedelta(hours=24)
    sentence = f"5 calls connected in 24 h — next call possible at {local(lifts, same_local_day(lifts))}."

    frame, errors = keypad_for(rep_page, live_server)
    expect(frame.locator("#permission-state")).to_have_text(sentence)
    frame.click("#call")
    frame.wait_for_selector("#screen-permission:not([hidden])")
    assert frame.text_content("#h-permission") == "Call limit reached"
    assert frame.text_content("#request-reason") == sentence
    screen = frame.inner_text("#screen-permission")
    assert "accept a call request" not in screen, "she accepted: the request is not what stops the call"
    assert screen.count(local(lifts, same_local_day(lifts))) == 1, "the time is said once"
    expect(frame.locator("#request-permission")).to_be_hidden()
    assert axe_violations(frame) == []
    assert errors == []


def test_the_third_unanswered_call_warns_and_the_fourth_says_why_the_permission_ended(page, live_server):
    with db.connection_context():
        now = utcnow()
        Permission.create(phone=DANA, status="granted", granted_at=now, expires_at=now + timedelta(hours=70),
                          consecutive_missed=3, updated_at=now)
    frame, errors = keypad_for(page, live_server)
    expect(frame.locator("#missed-warning")).to_have_text(
        "3 calls in a row went unanswered: after one more, WhatsApp withdraws the permission.")

    page.click("#contact-no-answer")  # the fourth call rings out: WhatsApp's rule withdraws the permission
    frame.click("#call")
    frame.wait_for_selector("#screen-ended:not([hidden])", timeout=15000)
    frame.click("#discard-call")
    frame.click("#discard-yes")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    expect(frame.locator("#permission-state")).to_have_text(re.compile(r"4 business calls in a row went unanswered"))
    expect(frame.locator("#missed-warning")).to_be_hidden()
    frame.click("#call")
    frame.wait_for_selector("#screen-permission:not([hidden])")
    assert "4 business calls in a row went unanswered" in frame.text_content("#request-reason")
    assert errors == []
