"""A stable height per screen (issue 14, "Also"): HubSpot is asked to resize the widget at most once per screen
change over a whole call, not on every status line, timer tick or late answer; the first screen shows a spinner
while HubSpot connects; the type is HubSpot's 14 px."""
import pytest

from tests.browser.helpers import answered_call, permitted_keypad, wait_for_message

pytestmark = pytest.mark.browser


def resizes(page):
    return [e["data"]["height"] for e in page.evaluate("window.simulatorLog") if e["type"] == "RESIZE_WIDGET"]


def test_one_call_asks_hubspot_to_resize_at_most_once_per_screen_change(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    page.wait_for_timeout(500)
    before = len(resizes(page))
    frame.evaluate("""() => { window.screenChanges = 0;
        new MutationObserver((changes) => { window.screenChanges += changes.filter(
            (c) => c.attributeName === 'hidden' && !c.target.hidden && c.target.id.startsWith('screen-')).length; })
          .observe(document.getElementById('app'), { attributes: true, subtree: true, attributeFilter: ['hidden'] }); }""")
    answered_call(page, frame)  # dialing, then on call
    page.wait_for_timeout(1500)  # the timer ticks
    frame.click("#hangup")
    frame.wait_for_selector("#screen-ended:not([hidden])")
    frame.fill("#notes", "Dana wants the blue one.")
    frame.click("#save-call")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    wait_for_message(page, "CALL_COMPLETED")
    page.wait_for_timeout(1000)
    during = resizes(page)[before:]
    changes = frame.evaluate("window.screenChanges")
    assert changes >= 4  # dialing, on call, ended, keypad
    assert len(during) <= changes, during
    height = frame.evaluate("Math.ceil(document.getElementById('app').getBoundingClientRect().height)")
    assert resizes(page)[-1] == height, "the last size HubSpot heard is the widget's"
    assert errors == []


def test_the_first_screen_shows_a_spinner_and_hubspots_type(page, live_server):
    page.goto(f"{live_server.widget_origin}/widget")  # outside HubSpot: the loading screen stays
    spinner = page.locator("#screen-loading .spinner")
    assert spinner.is_visible()
    assert spinner.get_attribute("aria-hidden") == "true"  # the heading says it; the spinner only shows it
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "14px"
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(51, 71, 91)"  # HubSpot's #33475b
