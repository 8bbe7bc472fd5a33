"""Browser tests: the demo app served on a real port, HubSpot's simulator on one origin
(http://127.0.0.1:PORT) and the widget on another (http://localhost:PORT), driven in Debian's Chromium."""
import shutil
import threading
import time
from contextlib import contextmanager

import pytest

from tests.helpers import free_port, require_or_skip, running_in_thread
from widget_app import create_app
from widget_app import db as db_module
from widget_app.models import db as database_proxy


class LiveServer:
    def __init__(self, app, port):
        self.app, self.port = app, port
        self.host_origin = f"http://127.0.0.1:{port}"
        self.widget_origin = f"http://localhost:{port}"

    def simulator_url(self, **query) -> str:
        from urllib.parse import urlencode
        return f"{self.host_origin}/dev/hubspot" + (f"?{urlencode(query)}" if query else "")


@contextmanager
def demo_server(directory):
    """The demo-mode app (SQLite, simulated clouds) on a real port, in a thread, its files in ``directory``."""
    from werkzeug.serving import make_server

    port = free_port()
    settings = {"WIDGET_MODE": "demo", "TESTING": True, "SECRET_KEY": "browser-test-secret",
                "INSTANCE_PATH": str(directory / "instance"),
                "DATABASE_URL": f"sqlite:///{directory}/browser.db",
                "PUBLIC_BASE_URL": f"http://localhost:{port}", "SYNC_WORKER": False}
    app = create_app(settings)
    db_module.upgrade()
    from widget_app.agents.accounts import ensure_demo_agent
    with database_proxy.connection_context():
        ensure_demo_agent()  # demo@example.com / demo, as `python -m widget_app` creates it
    with running_in_thread(make_server("127.0.0.1", port, app, threaded=True)):
        yield LiveServer(app, port)
        _finish_demo_timers()


@pytest.fixture
def live_server(tmp_path):
    with demo_server(tmp_path) as server:
        yield server


def _finish_demo_timers(timeout=15.0):
    """Let the simulated clouds' pending steps (threading.Timer, some chaining the next) finish on this
    test's database, before the next test's app rebinds the shared database proxy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        timers = [t for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]
        if not timers:
            return
        for timer in timers:
            timer.join(timeout=max(0.0, deadline - time.monotonic()))


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (Playwright's own browser download is not used)."""
    path = chromium_path()
    if not path:
        require_or_skip("Debian's chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("playwright")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  # Block third-party cookies and storage, as Safari always does and Chrome can.
                  "--test-third-party-cookie-phaseout",
                  "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    yield page
    context.close()
