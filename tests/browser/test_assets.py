"""In Chromium, inside the HubSpot simulator: before INITIALIZED the widget's frame fetches its page,
one stylesheet, one bundle and HubSpot's SDK, nothing else (issue 16, item 6); the bundle users get
is the one every browser test drives."""
import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def test_before_initialized_the_widget_loads_its_page_one_stylesheet_one_bundle_and_the_sdk(page, live_server):
    loads = []
    page.on("request", lambda request: loads.append((request.resource_type, urlparse(request.url).path))
            if request.url.startswith(live_server.widget_origin) else None)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.simulator_url())
    page.wait_for_function("() => window.simulatorLog.some(e => e.type === 'INITIALIZED')", timeout=15000)
    # The Voice SDK is fetched after INITIALIZED on purpose (test_the_voice_sdk_waits_for_hubspot);
    # fetch() calls to our API are not files the page loads.
    # Only what can delay HubSpot's SYNC counts: documents, scripts, stylesheets (an icon or font the
    # page asks for once it renders, on a loaded machine, may land before this line runs).
    files = sorted((kind, path) for kind, path in list(loads)
                   if kind in ("document", "script", "stylesheet") and "/twilio.min" not in path
                   and not path.endswith(".map"))
    assert [kind for kind, _ in files] == ["document", "script", "script", "stylesheet"], files
    paths = [path for _, path in files]
    assert paths[0] == "/widget"
    assert re.fullmatch(r"/static/dist/calling-extensions-sdk-[0-9A-Z]{8}\.js", paths[1]), paths
    assert re.fullmatch(r"/static/dist/widget-[0-9A-Z]{8}\.js", paths[2]), paths
    assert re.fullmatch(r"/static/dist/widget-[0-9A-Z]{8}\.css", paths[3]), paths
    assert errors == []


def test_no_browser_test_polls_a_javascript_expression():
    """Our pages' CSP (script-src 'self') forbids eval: Playwright polls a wait_for_function given as an
    expression ("x === 1") with eval, so it passes only when the first look already succeeds and fails
    when the page is a little slow. Every polled predicate is written as a function ("() => x === 1")."""
    root = Path(__file__).resolve().parents[2]
    call = re.compile(r"""wait_for_function\(\s*f?(["'])(.*?)\1""", re.S)
    found = [f"{path.relative_to(root)}: {text[:60]}"
             for folder in ("tests", "bench", "scripts") for path in (root / folder).rglob("*.py")
             for _, text in call.findall(path.read_text(encoding="utf-8"))
             if not re.match(r"\s*(\(|[A-Za-z_$][\w$]*\s*=>|function\b|async\b)", text)]
    assert found == []
