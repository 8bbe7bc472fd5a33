"""Signing in inside HubSpot's cross-site iframe (simulated): LOGGED_IN reaches the host, a reloaded
widget resumes from the partitioned cookie (INITIALIZED isLoggedIn: true), signing out sends
LOGGED_OUT and really ends the session. Also photographs the README's screenshot: into a temporary directory
in a normal run, into docs/ under `npm run screenshots` (WIDGET_SCREENSHOTS=1)."""
import os
import time

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import open_simulator, png_facts, sign_in, wait_for_message, widget_frame
from widget_app.models import Agent, db

pytestmark = pytest.mark.browser
SCREENSHOT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "docs", "screenshot.png")


def linked_hubspot_ids(email, timeout=5.0):
    """The agent's HubSpot ids once the widget's hubspot-context request has landed."""
    deadline = time.monotonic() + timeout
    while True:
        with db.connection_context():
            agent = Agent.get(Agent.email == email)
        ids = (agent.hubspot_portal_id, agent.hubspot_user_id, agent.hubspot_owner_id)
        if all(ids) or time.monotonic() > deadline:
            return ids
        time.sleep(0.05)


def test_signing_in_reloading_and_signing_out(page, live_server):
    errors = open_simulator(page, live_server)
    assert wait_for_message(page, "INITIALIZED")["data"]["isLoggedIn"] is False
    frame = widget_frame(page, live_server)
    sign_in(frame)
    wait_for_message(page, "LOGGED_IN")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert frame.evaluate("document.activeElement.id") == "number"
    assert frame.text_content("#agent-name") == "Signed in as Demo Agent"
    assert frame.input_value("#login-password") == "", "the password does not linger in the page"

    # The widget told the server who this agent is in HubSpot (from SYNC: portal 123, user 456, owner 789).
    assert linked_hubspot_ids("demo@example.com") == ("123", "456", "789")

    # A reloaded widget has lost its in-memory token; the partitioned cookie brings the session back.
    page.click("#reload-widget")
    initialized = wait_for_message(page, "INITIALIZED", count=2)
    assert initialized["data"]["isLoggedIn"] is True
    frame = widget_frame(page, live_server)
    frame.wait_for_selector("#screen-keypad:not([hidden])")

    frame.click("#logout")
    wait_for_message(page, "LOGGED_OUT")
    frame.wait_for_selector("#screen-login:not([hidden])")
    assert frame.text_content("#status") == "You are signed out."

    # Signed out means signed out: the next load starts at the login screen again.
    page.click("#reload-widget")
    assert wait_for_message(page, "INITIALIZED", count=3)["data"]["isLoggedIn"] is False
    assert errors == []


def test_a_wrong_password_shows_the_servers_message_and_sends_nothing(page, live_server):
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame, password="wrong")
    frame.wait_for_selector("#error:not([hidden])")
    assert frame.text_content("#error") == "The email or password is wrong."
    assert frame.is_visible("#screen-login")
    assert "LOGGED_IN" not in [e["type"] for e in page.evaluate("window.simulatorLog")]


def test_too_many_attempts_says_when_to_try_again(page, live_server):
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    for attempt in range(6):
        sign_in(frame, password=f"wrong {attempt}")
        frame.wait_for_function("n => document.getElementById('login-submit').disabled === false"
                                " && document.getElementById('error').textContent !== ''", arg=attempt)
        if attempt < 5:
            frame.evaluate("document.getElementById('error').textContent = ''")
    message = frame.text_content("#error")
    assert message.startswith("Too many sign-in attempts. Try again at "), message


def test_the_readme_screenshot_shows_the_keypad_after_dial_number(page, live_server, tmp_path):
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    wait_for_message(page, "LOGGED_IN")
    page.click("#send-dial")
    frame.wait_for_function("() => document.getElementById('number').value === '+44 740 012 3456'")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert frame.is_visible("#dialed")
    expect(frame.locator("#permission-state")).to_have_text("Needs a request")
    height = frame.evaluate("Math.ceil(document.getElementById('app').getBoundingClientRect().height)")
    expect(page.locator("#frame iframe")).to_have_attribute("height", f"{height}px")  # HubSpot resized it
    picture = SCREENSHOT if os.environ.get("WIDGET_SCREENSHOTS") else str(tmp_path / "screenshot.png")
    page.screenshot(path=picture)
    width, height, values = png_facts(picture)
    assert (width, height) == (1200, 800)
    assert values > 32, "the picture is blank"


def test_the_keypad_formats_typed_pasted_and_pressed_numbers_as_e164(page, live_server):
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    frame.type("#number", "00447400123456")
    assert frame.input_value("#number") == "+44 740 012 3456"
    frame.fill("#number", "")
    frame.evaluate("""() => {
        const data = new DataTransfer();
        data.setData('text', 'tel:+1 (415) 555-0100');
        document.getElementById('number').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }""")
    assert frame.input_value("#number") == "+1 415 555 0100"
    frame.click("#backspace")
    assert frame.input_value("#number") == "+1 415 555 010"
    frame.fill("#number", "")
    for key in "4412":
        frame.click(f"#pad [data-key='{key}']")
    assert frame.input_value("#number") == "+44 12"
    frame.click("#call")
    frame.wait_for_selector("#error:not([hidden])")
    assert "country code" in frame.text_content("#error")


def test_calling_a_contact_without_permission_offers_the_request(page, live_server):
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    wait_for_message(page, "LOGGED_IN")
    page.fill("#dial-number", "+14155550100")
    page.click("#send-dial")
    frame.wait_for_function("() => document.getElementById('number').value === '+1 415 555 0100'")
    frame.press("#number", "Enter")
    frame.wait_for_selector("#screen-permission:not([hidden])")
    assert frame.evaluate("document.activeElement.id") == "h-permission"
    assert frame.text_content("#screen-permission strong") == "+1 415 555 0100"
    assert frame.is_enabled("#request-permission")
    frame.press("#h-permission", "Escape")
    frame.wait_for_selector("#screen-keypad:not([hidden])")


def test_history_starts_empty(page, live_server):
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    frame.click("#show-history")
    frame.wait_for_selector("#history-empty:not([hidden])")
    assert frame.eval_on_selector_all("#history-list li", "items => items.length") == 0
