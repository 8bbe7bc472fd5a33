"""The widget's socket carries a single-use ticket in its URL, never the agent's token (issue 12 item 4):
what the browser really opens, read from Chromium's own record of the page's WebSockets."""
import time

import pytest

from tests.browser.helpers import open_simulator, sign_in, wait_for_message, widget_frame

pytestmark = pytest.mark.browser


def test_the_widgets_socket_url_never_holds_its_token(page, live_server):
    sockets, tokens = [], []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("response", lambda response: tokens.append(response.json()["token"])
            if response.url.endswith("/api/auth/login") and response.ok else None)
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    wait_for_message(page, "LOGGED_IN")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    deadline = time.monotonic() + 10
    while not any("/ws?" in url for url in sockets) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    widget_sockets = [url for url in sockets if "/ws?" in url]
    assert widget_sockets and tokens
    assert all("ticket=" in url and tokens[0] not in url and "token=" not in url for url in widget_sockets)
