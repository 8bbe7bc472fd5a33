"""HubSpot's calling window (issue 14, item 6): signing in to one copy signs in the other, signing out of one signs
out of both, and Call in the page copy with no calling window open says what to do instead of nothing."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import open_calling_window, sign_in, wait_for_message
from widget_app.core.clock import utcnow
from widget_app.models import Permission, db

pytestmark = pytest.mark.browser


def test_signing_in_to_one_copy_signs_in_the_other_and_out_of_both(page, live_server):
    remote, window, popup, errors = open_calling_window(page, live_server)
    remote.wait_for_selector("#screen-login:not([hidden])")
    sign_in(window)
    window.wait_for_selector("#screen-keypad:not([hidden])")
    remote.wait_for_selector("#screen-keypad:not([hidden])")  # no second sign-in in HubSpot's page
    expect(remote.locator("#agent-name")).to_have_text("Signed in as Demo Agent")
    logged_in = [e["copy"] for e in page.evaluate("window.simulatorLog") if e["type"] == "LOGGED_IN"]
    assert sorted(logged_in) == ["remote", "window"]

    remote.click("#logout")  # out of the page copy: the calling window follows
    window.wait_for_selector("#screen-login:not([hidden])")
    remote.wait_for_selector("#screen-login:not([hidden])")
    wait_for_message(page, "LOGGED_OUT", count=2)

    sign_in(remote)  # and the other way round
    window.wait_for_selector("#screen-keypad:not([hidden])")
    assert errors == []


def test_call_in_the_page_copy_without_a_calling_window_says_what_to_do(page, live_server):
    with db.connection_context():
        now = utcnow()
        Permission.create(phone="+447400123456", status="granted", granted_at=now,
                          expires_at=now + timedelta(hours=48), updated_at=now)
    remote, window, popup, errors = open_calling_window(page, live_server)
    sign_in(remote)
    remote.wait_for_selector("#screen-keypad:not([hidden])")
    popup.close()  # the rep closed HubSpot's calling window

    remote.fill("#number", "+447400123456")
    remote.click("#call")
    expect(remote.locator("#error")).to_be_visible()
    assert "calling window is not open" in remote.text_content("#error")
    assert "Open it" in remote.text_content("#error")
    assert not [e for e in page.evaluate("window.simulatorLog") if e["type"] == "OUTGOING_CALL_STARTED"]
    assert errors == []
