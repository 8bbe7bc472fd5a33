"""Focus and keyboard (issue 14, item 9): a ring is announced, never pulls the focus out of what the rep types in
HubSpot; Accept comes before Decline; the dial pad is one tab stop with arrow keys; digits typed anywhere on
the keypad screen reach the number."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import open_simulator, sign_in, signed_in_and_available, widget_frame

pytestmark = pytest.mark.browser


def test_a_ring_is_announced_without_taking_the_focus_from_hubspot(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    page.focus("#dial-number")  # the rep is typing in HubSpot's page
    page.fill("#dial-number", "")
    page.keyboard.type("note: call")
    page.evaluate("document.getElementById('contact-call-in').click()")  # the contact calls in meanwhile
    frame.wait_for_selector("#screen-incoming:not([hidden])")
    expect(frame.locator("#status")).to_have_text("Incoming WhatsApp call from Dana Demo.")
    assert frame.get_attribute("#status", "aria-live") == "polite"
    page.keyboard.type(" back")
    assert page.evaluate("document.activeElement.id") == "dial-number"
    assert page.input_value("#dial-number") == "note: call back", "nothing the rep typed went into the widget"

    order = frame.eval_on_selector_all("#screen-incoming button", "buttons => buttons.map(b => b.id)")
    assert order == ["accept", "decline"]
    frame.focus("#accept")
    frame.press("#accept", "Tab")
    assert frame.evaluate("document.activeElement.id") == "decline"
    assert errors == []


def test_the_dial_pad_is_one_tab_stop_with_arrow_keys_and_digits_type_anywhere(page, live_server):
    errors = open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert frame.evaluate("document.activeElement.id") == "number"

    frame.press("#number", "Tab")
    assert frame.evaluate("document.activeElement.dataset.key") == "1", "Tab enters the pad at one key"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert frame.evaluate("document.activeElement.dataset.key") == "5"
    page.keyboard.press("Enter")
    assert frame.input_value("#number") == "+5"
    page.keyboard.press("Tab")
    assert frame.evaluate("document.activeElement.id") == "backspace", "one Tab leaves the pad"
    page.keyboard.press("Shift+Tab")
    assert frame.evaluate("document.activeElement.dataset.key") == "5", "back to the key last used"
    assert frame.eval_on_selector_all("#pad [data-key]", "keys => keys.filter(k => k.tabIndex === 0).length") == 1

    frame.fill("#number", "")
    frame.focus("#h-keypad")  # anywhere on the keypad screen, not in the field
    page.keyboard.type("447400123456")
    assert frame.input_value("#number") == "+44 740 012 3456"
    expect(frame.locator("#permission-state")).to_have_text("Needs a request")
    assert errors == []
