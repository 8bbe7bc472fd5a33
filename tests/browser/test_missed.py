"""Availability and missed calls in the HubSpot simulator (issue 14, item 2): a banner says when incoming
calls are off; calls nobody answered reach the Missed list (badge, caller's name, why, Call back)."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import ring, signed_in_and_available, wait_for_message, wait_for_row
from widget_app.models import Agent, Call

pytestmark = pytest.mark.browser


def test_new_reps_start_available_and_a_banner_says_when_calls_are_off(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)  # also checks the server sees them online
    expect(frame.locator("#unavailable")).to_be_hidden()
    frame.uncheck("#available")
    expect(frame.locator("#unavailable")).to_be_visible()
    expect(frame.locator("#unavailable")).to_contain_text("Incoming calls are off")
    assert wait_for_row(lambda: not Agent.get(Agent.email == "demo@example.com").available)

    frame.click("#turn-on")
    expect(frame.locator("#unavailable")).to_be_hidden()
    assert frame.is_checked("#available")
    assert wait_for_row(lambda: Agent.get(Agent.email == "demo@example.com").available)
    assert errors == []


def test_a_call_missed_while_unavailable_has_a_badge_the_callers_name_and_call_back(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    frame.uncheck("#available")
    wait_for_message(page, "USER_UNAVAILABLE")
    assert wait_for_row(lambda: not Agent.get(Agent.email == "demo@example.com").available)

    page.click("#contact-call-in")
    call = wait_for_row(lambda: Call.get_or_none(Call.direction == "inbound", Call.status == "no-answer"))
    assert call is not None
    expect(frame.locator("#missed-badge")).to_have_text("1")
    assert frame.get_attribute("#show-missed", "aria-label") == "Missed calls, 1 new"

    frame.click("#show-missed")
    frame.wait_for_selector("#screen-missed:not([hidden])")
    expect(frame.locator("#missed-list li")).to_have_count(1)
    row = frame.text_content("#missed-list li")
    assert "Dana Demo" in row and "Nobody was available" in row and "+44 740 012 3456" in row
    expect(frame.locator("#missed-badge")).to_be_hidden()
    assert wait_for_row(lambda: Agent.get(Agent.email == "demo@example.com").missed_seen_id == call.id)

    frame.click("#missed-list [data-callback]")
    frame.wait_for_selector("#screen-permission:not([hidden])")  # Call back: Dana has not allowed calls yet
    assert "+44 740 012 3456" in frame.text_content("#screen-permission")
    assert errors == []


def test_a_ring_the_rep_misses_on_screen_is_kept_in_the_missed_list(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    ring(page, frame)
    page.click("#contact-hang-up-inbound")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    expect(frame.locator("#missed-badge")).to_have_text("1")
    frame.click("#show-missed")
    expect(frame.locator("#missed-list li")).to_have_count(1)
    assert "Dana Demo" in frame.text_content("#missed-list li")
    assert errors == []
