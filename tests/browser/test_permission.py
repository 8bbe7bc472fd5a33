"""Asking a WhatsApp contact for call permission, in the HubSpot simulator (headless Chromium, demo
mode): the request screen, the pending screen, and the simulator's "contact accepts" (our real, signed
/twilio/messaging webhook) turning the widget dial-ready without a reload."""
import pytest

from tests.browser.helpers import ask_for_permission, signed_in_keypad

pytestmark = pytest.mark.browser


def test_contact_accepting_turns_the_pending_widget_dial_ready(page, live_server):
    frame, errors = signed_in_keypad(page, live_server)
    ask_for_permission(page, frame)
    frame.evaluate("window.notReloaded = true")

    page.click("#contact-accepts")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    frame.wait_for_selector("#ready:not([hidden])")
    assert frame.evaluate("window.notReloaded") is True
    assert "accepted WhatsApp calls" in frame.text_content("#ready")
    assert frame.input_value("#number") == "+44 740 012 3456"
    assert frame.evaluate("document.activeElement.id") == "call"
    assert not [e for e in page.evaluate("window.simulatorLog") if e["type"] == "OUTGOING_CALL_STARTED"]
    assert errors == []


def test_a_declined_request_says_when_asking_again_is_possible(page, live_server):
    frame, errors = signed_in_keypad(page, live_server)
    ask_for_permission(page, frame)

    page.click("#contact-declines")
    frame.wait_for_selector("#screen-denied:not([hidden])")
    assert frame.is_disabled("#request-again")
    assert "You can ask again at" in frame.text_content("#denied-retry")
    assert errors == []


def test_the_request_limit_disables_the_button_with_the_reason_and_time(page, live_server):
    frame, errors = signed_in_keypad(page, live_server)
    ask_for_permission(page, frame)
    page.click("#contact-declines")
    frame.wait_for_selector("#screen-denied:not([hidden])")
    frame.click("#screen-denied [data-back]")
    frame.wait_for_selector("#screen-keypad:not([hidden])")

    frame.click("#call")  # declined within 24 h: the denied screen again, still with the time
    frame.wait_for_selector("#screen-denied:not([hidden])")
    assert frame.is_disabled("#request-again")
    assert errors == []


def test_pending_screen_updates_by_polling_when_the_socket_is_gone(page, live_server):
    """permission_updated is the fast path; without a socket the pending screen still learns the answer."""
    frame, errors = signed_in_keypad(page, live_server)
    frame.evaluate("() => import(document.querySelector('script[type=module]').src).then((widget) => widget.closeSocket())")
    ask_for_permission(page, frame)

    page.click("#contact-accepts")
    frame.wait_for_selector("#ready:not([hidden])", timeout=10000)
    assert errors == []
