"""The call invite in the HubSpot simulator (issue 15, item 6): beside "Send call request" the rep sends the
contact a "Call us" WhatsApp message (the demo's Twilio Messages API), and the screen says when it went."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import DANA, axe_violations, signed_in_and_available, signed_in_keypad, wait_for_message, wait_for_row
from widget_app.models import Agent, Call, PermissionRequest

pytestmark = pytest.mark.browser


def test_the_call_invite_is_sent_and_shown_as_sent(page, live_server):
    frame, errors = signed_in_keypad(page, live_server)
    frame.click("#call")
    frame.wait_for_selector("#screen-permission:not([hidden])")
    expect(frame.locator("#send-invite")).to_be_visible()
    expect(frame.locator("#send-invite")).to_have_text("Send call invite")
    expect(frame.locator("#request-permission")).to_be_visible()
    assert axe_violations(frame) == []

    frame.click("#send-invite")
    expect(frame.locator("#invite-reason")).to_have_text(re.compile(r"^Invite sent \d{1,2}:\d{2}"))
    expect(frame.locator("#send-invite")).to_be_disabled()  # one a day, like requests
    expect(frame.locator("#request-permission")).to_be_enabled()  # the request is still there to send
    row = wait_for_row(lambda: PermissionRequest.get_or_none(PermissionRequest.kind == "invite",
                                                             PermissionRequest.message_sid.is_null(False)))
    assert row is not None and row.phone == DANA
    assert axe_violations(frame) == []
    assert errors == []


def test_call_back_without_a_permission_offers_the_request_and_the_invite(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    frame.uncheck("#available")
    wait_for_message(page, "USER_UNAVAILABLE")
    assert wait_for_row(lambda: not Agent.get(Agent.email == "demo@example.com").available)
    page.click("#contact-call-in")  # CALLBACK_PERMISSION is off: the call-in grants nothing
    assert wait_for_row(lambda: Call.get_or_none(Call.direction == "inbound", Call.status == "no-answer"))
    frame.click("#show-missed")
    expect(frame.locator("#missed-list li")).to_have_count(1)
    frame.click("#missed-list [data-callback]")
    frame.wait_for_selector("#screen-permission:not([hidden])")
    expect(frame.locator("#request-permission")).to_be_enabled()
    expect(frame.locator("#send-invite")).to_be_enabled()
    frame.click("#send-invite")
    expect(frame.locator("#invite-reason")).to_contain_text("Invite sent")
    assert Call.select().where(Call.direction == "outbound").count() == 0
    assert errors == []
