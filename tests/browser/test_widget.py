"""The widget inside the HubSpot simulator in headless Chromium: framed cross-site from the other
loopback origin, the real SDK handshake, INITIALIZED in a frame that may not use storage, DIAL_NUMBER,
RESIZE_WIDGET, and the calling-window layout (a `remote` copy in the page, a `window` copy in a popup)."""
from urllib.parse import urlparse

import pytest

from tests.browser.helpers import open_simulator, wait_for_message, widget_frame

pytestmark = pytest.mark.browser


def test_the_simulator_frames_the_widget_from_the_other_origin(page, live_server):
    open_simulator(page, live_server)
    src = page.get_attribute("#frame iframe", "src")
    assert urlparse(page.url).hostname == "127.0.0.1"
    assert src == f"{live_server.widget_origin}/widget"
    assert page.get_attribute("#frame iframe", "allow") == "microphone; autoplay"


def test_the_sdk_handshake_carries_hubspots_context(page, live_server):
    open_simulator(page, live_server)
    sync = wait_for_message(page, "SYNC")
    ack = wait_for_message(page, "SYNC_ACK")
    assert sync["dir"] == "out" and ack["dir"] == "in"
    for key, value in {"portalId": 123, "userId": 456, "ownerId": 789, "iframeLocation": "widget",
                       "usesCallingWindow": False, "hostUrl": live_server.host_origin}.items():
        assert sync["data"][key] == value
        assert ack["data"][key] == value
    assert ack["data"]["iFrameUrl"] == live_server.widget_origin


def test_the_widget_initializes_signed_out_although_storage_is_denied(page, live_server):
    errors = open_simulator(page, live_server)
    initialized = wait_for_message(page, "INITIALIZED")
    assert initialized["dir"] == "in"
    assert initialized["data"]["isLoggedIn"] is False
    assert initialized["data"]["sizeInfo"] == {"width": 400, "height": 600}
    frame = widget_frame(page, live_server)
    # The environment is as hostile as Safari's: a cross-site frame gets no storage, no plain cookies.
    hostile = frame.evaluate("""() => {
        const probe = (read) => { try { read(); return 'allowed'; } catch (e) { return e.name; } };
        document.cookie = 'probe=1; SameSite=None; Secure; Path=/';
        return { local: probe(() => localStorage.length), session: probe(() => sessionStorage.length),
                 cookie: document.cookie };
    }""")
    assert hostile == {"local": "SecurityError", "session": "SecurityError", "cookie": ""}
    assert frame.is_visible("#screen-login")
    assert frame.evaluate("document.activeElement.id") == "login-email"
    assert errors == []


def test_nothing_is_sent_before_the_handshake(page, live_server):
    open_simulator(page, live_server)
    incoming = [e["type"] for e in page.evaluate("window.simulatorLog") if e["dir"] == "in"]
    assert incoming[:2] == ["SYNC_ACK", "INITIALIZED"]


def test_dial_number_puts_the_number_on_the_keypad(page, live_server):
    open_simulator(page, live_server)
    page.fill("#dial-number", "+14155550100")
    page.click("#send-dial")
    frame = widget_frame(page, live_server)
    frame.wait_for_function("() => document.getElementById('number').value !== ''")
    assert frame.input_value("#number") == "+1 415 555 0100"
    assert frame.text_content("#dialed") == "HubSpot sent +1 415 555 0100"


def test_resize_widget_resizes_the_hubspot_iframe(page, live_server):
    open_simulator(page, live_server)
    resize = wait_for_message(page, "RESIZE_WIDGET")
    assert resize["data"]["width"] == 400
    page.wait_for_function("height => document.querySelector('#frame iframe').getAttribute('height') === height + 'px'",
                           arg=resize["data"]["height"])
    frame = widget_frame(page, live_server)
    content = frame.evaluate("Math.ceil(document.getElementById('app').getBoundingClientRect().height)")
    assert resize["data"]["height"] == content


def test_a_failure_from_hubspot_is_shown_to_the_agent(page, live_server):
    open_simulator(page, live_server)
    page.click("#send-engagement-failed")
    frame = widget_frame(page, live_server)
    frame.wait_for_selector("#error:not([hidden])")
    assert frame.text_content("#error") == "HubSpot: Simulated: the engagement could not be created."
    assert frame.get_attribute("#error", "role") == "alert"


def test_the_voice_sdk_waits_for_hubspot(page, live_server):
    """Opened outside HubSpot there is no handshake, so the 300 KB Voice SDK is never fetched."""
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.widget_origin}/widget")
    page.wait_for_timeout(1500)
    assert not any(url.endswith("/twilio.min.js") for url in requests)
    assert page.evaluate("typeof window.Twilio") == "undefined"
    assert page.is_visible("#screen-loading")


def test_the_voice_sdk_loads_once_hubspot_has_the_widget(page, live_server):
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    frame.wait_for_function("() => typeof (window.Twilio && window.Twilio.Device) === 'function'")


def test_the_calling_window_mode_opens_a_remote_copy_and_a_window_copy(page, live_server):
    with page.context.expect_page() as popup_info:
        page.goto(live_server.simulator_url(mode="window"))
    popup = popup_info.value
    popup.wait_for_load_state()
    assert urlparse(popup.url).path == "/dev/hubspot/window"
    wait_for_message(page, "INITIALIZED", count=2)
    log = page.evaluate("window.simulatorLog")
    syncs = {e["copy"]: e["data"] for e in log if e["type"] == "SYNC"}
    assert syncs["remote"]["iframeLocation"] == "remote" and syncs["remote"]["usesCallingWindow"] is True
    assert syncs["window"]["iframeLocation"] == "window" and syncs["window"]["usesCallingWindow"] is True
    assert {e["copy"] for e in log if e["type"] == "INITIALIZED"} == {"remote", "window"}
    # DIAL_NUMBER goes to the copy that holds calls: the calling window.
    page.click("#send-dial")
    frame = popup.query_selector("#frame iframe").content_frame()
    frame.wait_for_function("() => document.getElementById('number').value !== ''")
    assert frame.input_value("#number") == "+44 740 012 3456"
