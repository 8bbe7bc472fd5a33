"""Names, not just numbers (issue 14, item 10): HubSpot's contact (the server's look-up on the number it recorded)
names the contact on Calling…, On call, Call ended and in the history, with the number said once; the history
says statuses as people do ("No answer", not no-answer) and offers Redial."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import permitted_keypad, wait_for_message, wait_for_row
from widget_app.models import Call

pytestmark = pytest.mark.browser
NUMBER = "+44 740 012 3456"


def visible_text(frame, screen):
    return frame.inner_text(f"#screen-{screen}")


def test_the_contact_is_named_on_every_call_screen_and_in_the_history_with_redial(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    live_server.app.config["DEMO_VOICE_DELAY_SCALE"] = 3  # time to read the dialing screen
    frame.click("#call")
    frame.wait_for_selector("#screen-dialing:not([hidden])")
    expect(frame.locator("#screen-dialing [data-bind='party']")).to_have_text("Dana Demo")
    assert visible_text(frame, "dialing").count(NUMBER) == 1, visible_text(frame, "dialing")

    frame.wait_for_selector("#screen-calling:not([hidden])", timeout=15000)
    live_server.app.config["DEMO_VOICE_DELAY_SCALE"] = 1
    assert frame.text_content("#screen-calling [data-bind='party']") == "Dana Demo"
    assert visible_text(frame, "calling").count(NUMBER) == 1
    frame.click("#hangup")
    frame.wait_for_selector("#screen-ended:not([hidden])")
    assert frame.text_content("#ended-summary").startswith(f"Dana Demo · {NUMBER} · ")
    frame.click("#save-call")
    frame.wait_for_selector("#screen-keypad:not([hidden])")

    # The first call is over for the simulated contact too before they let the next one ring out.
    assert wait_for_row(lambda: Call.get(Call.direction == "outbound").status == "completed", timeout=15)
    page.click("#contact-no-answer")  # the next call rings out
    frame.click("#show-history")
    expect(frame.locator("#history-list li")).to_have_count(1)
    first = frame.locator("#history-list li").first
    expect(first.locator("strong")).to_have_text("To Dana Demo")
    expect(first).to_contain_text("Answered")
    assert "completed" not in first.inner_text()
    assert first.inner_text().count(NUMBER) == 1

    first.locator("[data-redial]").click()  # Redial: permission is still there, so it dials at once
    wait_for_message(page, "OUTGOING_CALL_STARTED", count=2)
    frame.wait_for_selector("#screen-ended:not([hidden])", timeout=15000)
    assert "Dana Demo" in frame.text_content("#ended-summary")
    frame.click("#save-call")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    frame.click("#show-history")
    expect(frame.locator("#history-list li")).to_have_count(2)
    newest = frame.locator("#history-list li").first
    expect(newest).to_contain_text("No answer")
    assert "no-answer" not in newest.inner_text()
    assert errors == []
