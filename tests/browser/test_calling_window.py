"""HubSpot's calling window (usesCallingWindow) in the simulator: the `window` copy (a popup) holds the
call and talks to HubSpot; the `remote` copy (in HubSpot's page) mirrors it over a BroadcastChannel,
forwards its buttons, sends HubSpot nothing about the call, and shows the live call again after a reload."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import CALL_MESSAGES, frame_of, open_calling_window, sign_in, wait_for_message

pytestmark = pytest.mark.browser


def live_call_in_the_window(page, window):
    """Sign in in the window copy, get Dana's permission, and call her from the window copy."""
    sign_in(window)
    wait_for_message(page, "LOGGED_IN")
    page.click("#send-dial")  # to the calling window copy (the simulator's default target)
    expect(window.locator("#number")).to_have_value("+44 740 012 3456")
    window.click("#call")
    window.click("#request-permission")
    window.wait_for_selector("#screen-pending:not([hidden])")
    page.click("#contact-accepts")
    window.wait_for_selector("#ready:not([hidden])")
    window.click("#call")
    window.wait_for_selector("#screen-calling:not([hidden])", timeout=10000)
    wait_for_message(page, "CALL_ANSWERED")


def call_messages(page, copy):
    return [e["type"] for e in page.evaluate("window.simulatorLog")
            if e["dir"] == "in" and e["copy"] == copy and e["type"] in CALL_MESSAGES]


def test_the_remote_mirrors_the_call_survives_a_reload_and_hangs_up_the_window_copy(page, live_server):
    remote, window, popup, errors = open_calling_window(page, live_server)
    live_call_in_the_window(page, window)
    remote.wait_for_selector("#screen-calling:not([hidden])")
    assert "+44 740 012 3456" in remote.text_content("#screen-calling")

    page.select_option("#target", "remote")
    page.click("#reload-widget")  # HubSpot navigates: the remote copy loads again
    wait_for_message(page, "INITIALIZED", count=3)
    remote = frame_of(page)
    remote.wait_for_selector("#screen-calling:not([hidden])")
    expect(remote.locator("#timer")).not_to_have_text("00:00")

    remote.click("#hangup")
    ended = wait_for_message(page, "CALL_ENDED")
    assert ended["copy"] == "window" and ended["data"]["callEndStatus"] == "COMPLETED"
    window.wait_for_selector("#screen-ended:not([hidden])")
    remote.wait_for_selector("#screen-ended:not([hidden])")

    remote.fill("#notes", "Saved from the remote copy.")
    remote.click("#save-call")
    completed = wait_for_message(page, "CALL_COMPLETED")
    assert completed["copy"] == "window"
    window.wait_for_selector("#screen-keypad:not([hidden])")
    remote.wait_for_selector("#screen-keypad:not([hidden])")
    assert call_messages(page, "window") == CALL_MESSAGES
    assert call_messages(page, "remote") == []
    assert errors == []


def test_the_remote_copy_does_not_start_a_phone(page, live_server):
    remote, window, popup, errors = open_calling_window(page, live_server)
    sign_in(window)
    wait_for_message(page, "LOGGED_IN")
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.select_option("#target", "remote")
    page.click("#reload-widget")
    wait_for_message(page, "INITIALIZED", count=3)
    remote = frame_of(page)
    remote.wait_for_selector("#screen-keypad:not([hidden])")  # resumed from the shared session cookie
    expect(remote.locator("#agent-name")).to_contain_text("Signed in as")
    assert not [url for url in requests if "/api/voice/token" in url or url.endswith("/twilio.min.js")]
    assert errors == []


def test_mute_shows_in_both_copies_of_the_calling_window(page, live_server):
    """Issue 14, item 3: mute has a visible state (label, colour, icon, a line), in the page copy too."""
    remote, window, popup, errors = open_calling_window(page, live_server)
    live_call_in_the_window(page, window)
    remote.wait_for_selector("#screen-calling:not([hidden])")
    for copy in (window, remote):
        expect(copy.locator("#mute")).to_have_text("🎙 Mute")
        expect(copy.locator("#mute-state")).to_be_hidden()

    remote.click("#mute")  # pressed in HubSpot's page: carried out in the window copy, shown in both
    for copy in (window, remote):
        expect(copy.locator("#mute")).to_have_text("🔇 Unmute")
        expect(copy.locator("#mute")).to_have_class("on")
        expect(copy.locator("#mute-state")).to_be_visible()
    assert window.evaluate(  # the widget as the page runs it: its bundle's own module
        "(async () => (await import(document.querySelector('script[type=module]').src)).state.muted)()") is True

    window.click("#mute")
    for copy in (window, remote):
        expect(copy.locator("#mute")).to_have_text("🎙 Mute")
        expect(copy.locator("#mute-state")).to_be_hidden()
    window.click("#hangup")
    wait_for_message(page, "CALL_ENDED")
    assert errors == []
