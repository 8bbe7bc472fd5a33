"""Messages that say what is true now (issue 14, item 5): each screen owns its status line, an error
clears once the thing it was about works again, and the history follows the HubSpot save by itself."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import answered_call, permitted_keypad, wait_for_message
from widget_app.hubspot.engagements import drain
from widget_app.models import db

pytestmark = pytest.mark.browser


def test_the_status_line_does_not_carry_over_between_screens(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    expect(frame.locator("#status")).to_have_text("Permission granted.")
    frame.click("#call")
    frame.wait_for_selector("#screen-dialing:not([hidden])")
    expect(frame.locator("#status")).not_to_have_text("Permission granted.")
    frame.wait_for_selector("#screen-calling:not([hidden])", timeout=10000)
    expect(frame.locator("#status")).not_to_contain_text("Ringing")
    frame.click("#hangup")
    frame.wait_for_selector("#screen-ended:not([hidden])")
    expect(frame.locator("#status")).not_to_contain_text("Ringing")
    assert errors == []


def test_the_history_follows_the_save_to_hubspot_without_a_click(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    answered_call(page, frame)
    frame.click("#hangup")
    frame.wait_for_selector("#screen-ended:not([hidden])")
    frame.fill("#notes", "Logged.")
    frame.click("#save-call")
    wait_for_message(page, "CALL_COMPLETED")
    frame.click("#show-history")
    expect(frame.locator("#history-list li").first).to_contain_text("Saving to HubSpot…")
    with live_server.app.app_context(), db.connection_context():
        assert drain(live_server.app) == 1  # the worker writes the engagement
    expect(frame.locator("#history-list li").first).to_contain_text("Saved to HubSpot", timeout=8000)
    assert errors == []


def test_cannot_reach_the_server_clears_when_connected_again(page, live_server):
    """The server is unreachable for a moment: the error shows; once the socket is back ("Connected
    again."), the error goes, with no click."""
    sockets = []

    def through(ws):
        """Forward the widget's socket to the server, keeping a handle to drop it."""
        server = ws.connect_to_server()
        sockets.append(ws)
        server.on_message(ws.send)
        ws.on_message(server.send)

    page.context.route_web_socket("**/ws*", through)
    frame, errors = permitted_keypad(page, live_server)
    page.context.set_offline(True)
    frame.click("#show-history")
    expect(frame.locator("#error")).to_contain_text("Cannot reach the server")
    page.context.set_offline(False)
    sockets[-1].close()  # the blip also dropped the socket; it reconnects by itself
    expect(frame.locator("#status")).to_have_text("Connected again.", timeout=20000)
    expect(frame.locator("#error")).to_be_hidden()
    assert frame.is_visible("#screen-history")
    assert errors == []
