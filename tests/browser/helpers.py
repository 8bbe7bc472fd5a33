"""Helpers the browser tests share that are not fixtures: driving HubSpot's simulator and the widget in it
(open, sign in, ring, dial, save), reading the rows a live server writes, axe-core, PNG facts."""
import os
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.helpers import require_or_skip, wait_for
from widget_app.models import Agent, Call, db
from widget_app.models import db as database_proxy


def wait_for_row(read, timeout=10.0):
    """`wait_for` over rows a live server's threads write, reading through a fresh connection each time."""
    def fresh():
        with database_proxy.connection_context():
            return read()
    return wait_for(fresh, timeout)


AXE_SOURCE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                          "node_modules", "axe-core", "axe.min.js")


def axe_violations(frame) -> list[dict]:
    """axe-core's violations (every impact) on a page or frame as it is now: the library is evaluated from
    node_modules into the frame (never served by the app, never from a CDN; evaluation is not subject to
    the page's CSP). Each violation is reduced to its rule id, impact and the offending elements' selectors."""
    if not os.path.exists(AXE_SOURCE):
        require_or_skip("axe-core (npm ci installs it)")
    with open(AXE_SOURCE, encoding="utf-8") as fh:
        source = fh.read()
    if not frame.evaluate("() => Boolean(window.axe)"):
        frame.evaluate(source + "\n;undefined")  # an expression evaluated by the browser, not eval() in the page
    result = frame.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ['violations']});
        return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                             targets: v.nodes.map(n => n.target.join(' '))}));
    }""")
    return result


def png_facts(path):
    """Width, height and how many different byte values the image data holds (a blank picture has few)."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        if kind == b"IDAT":
            chunks.append(data[at + 8:at + 8 + length])
        at += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))


def wait_for_message(page, message_type, count=1, timeout=10000):
    """Wait until the simulator has logged `count` messages of a type; return the last one."""
    page.wait_for_function("([type, count]) => window.simulatorLog.filter(e => e.type === type).length >= count",
                           arg=[message_type, count], timeout=timeout)
    return [e for e in page.evaluate("window.simulatorLog") if e["type"] == message_type][-1]


def widget_frame(page, live_server):
    page.wait_for_selector("#frame iframe")
    frame = page.query_selector("#frame iframe").content_frame()
    frame.wait_for_load_state()
    return frame


def open_simulator(page, live_server, **query):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.simulator_url(**query))
    wait_for_message(page, "INITIALIZED")
    return errors


def sign_in(frame, email="demo@example.com", password="demo"):
    frame.fill("#login-email", email)
    frame.fill("#login-password", password)
    frame.press("#login-password", "Enter")  # keyboard only


DANA = "+447400123456"  # the demo contact (the simulator's default DIAL_NUMBER)


def signed_in_keypad(page, live_server, phone=DANA):
    """The simulator, the demo agent signed in, and HubSpot's DIAL_NUMBER for ``phone`` on the keypad."""
    errors = open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    wait_for_message(page, "LOGGED_IN")
    page.fill("#dial-number", phone)
    page.click("#send-dial")
    expect(frame.locator("#number")).not_to_have_value("")
    return frame, errors


def ask_for_permission(page, frame):
    """Call -> the request screen -> send the request -> the pending screen."""
    frame.click("#call")
    frame.wait_for_selector("#screen-permission:not([hidden])")
    assert frame.is_enabled("#request-permission")
    frame.click("#request-permission")
    frame.wait_for_selector("#screen-pending:not([hidden])")
    expect(frame.locator("#pending-since")).to_have_text("just now")


def agent_can_take_calls(email="demo@example.com", owner="789"):
    agent = Agent.get(Agent.email == email)
    return agent.available and agent.last_seen_at is not None and agent.hubspot_owner_id == owner


def inbound_call():
    return Call.get_or_none(Call.direction == "inbound")


def signed_in_and_available(page, live_server, email="demo@example.com", password="demo", owner="789"):
    """The simulator with an agent signed in, the toggle on, and the server seeing them online (linked to
    ``owner``: HubSpot's demo owner 789 is demo@example.com, so nobody else is linked to it)."""
    errors = open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame, email, password)
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    frame.check("#available")
    wait_for_message(page, "USER_AVAILABLE")
    if not wait_for_row(lambda: agent_can_take_calls(email, owner)):
        with db.connection_context():
            agent = Agent.get(Agent.email == email).__data__
        pytest.fail(f"the server never saw the agent online and available: {agent}")
    return frame, errors


def ring(page, frame):
    """The contact calls in; the widget shows the incoming screen; returns the recorded call."""
    page.click("#contact-call-in")
    frame.wait_for_selector("#screen-incoming:not([hidden])")
    call = wait_for_row(inbound_call)
    assert call is not None and call.status == "ringing"
    return call


CALL_MESSAGES = ["OUTGOING_CALL_STARTED", "CALL_ANSWERED", "CALL_ENDED", "CALL_COMPLETED"]


def permitted_keypad(page, live_server):
    """Signed in, Dana's permission granted through the simulator, the keypad dial-ready."""
    frame, errors = signed_in_keypad(page, live_server)
    ask_for_permission(page, frame)
    page.click("#contact-accepts")
    frame.wait_for_selector("#ready:not([hidden])")
    return frame, errors


def the_call():
    return Call.get_or_none(Call.direction == "outbound")


def answered_call(page, frame):
    frame.click("#call")
    started = wait_for_message(page, "OUTGOING_CALL_STARTED")
    frame.wait_for_selector("#screen-calling:not([hidden])", timeout=10000)
    expect(frame.locator("#timer")).not_to_have_text("00:00")  # it runs from the answer
    return started


def save_notes(page, frame, notes):
    frame.wait_for_selector("#screen-ended:not([hidden])")
    frame.fill("#notes", notes)
    frame.click("#save-call")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    return wait_for_message(page, "CALL_COMPLETED")


def frame_of(page):
    page.wait_for_selector("#frame iframe")
    return page.query_selector("#frame iframe").content_frame()


def open_calling_window(page, live_server):
    """The simulator in calling-window mode: returns (remote frame, window frame, popup page, errors)."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    with page.context.expect_page() as popup_info:
        page.goto(live_server.simulator_url(mode="window"))
    popup = popup_info.value
    popup.on("pageerror", lambda error: errors.append(f"popup: {error}"))
    popup.wait_for_load_state()
    wait_for_message(page, "INITIALIZED", count=2)
    return frame_of(page), frame_of(popup), popup, errors
