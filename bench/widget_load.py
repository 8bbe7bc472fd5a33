"""Benchmark (not a test): how much our widget costs on top of HubSpot's SDK.

Starts the demo app on a free port and, beside it, a bare page that loads only the SDK bundle and
answers the handshake (the floor). Each is framed cross-origin by the HubSpot simulator 20 times in
headless Chromium (a fresh browser context each time, so nothing is cached), timing navigation to
INITIALIZED as the simulator sees it, and counting our own HTML+CSS+JS (vendored bundles excluded):
the files, their bytes as served (compressed when the server compresses: Content-Length on the wire)
and as plain text. Aim: our code adds under 30 KB as served and under 100 ms to the floor.

    python bench/widget_load.py [--loads 20]
"""
import argparse
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers import free_port

SDK_BUNDLE = os.path.join(ROOT, "static", "vendor", "calling-extensions-sdk.js")
VENDORED = ("calling-extensions-sdk", "twilio.min")  # HubSpot's and Twilio's bundles, wherever served from
FLOOR_HTML = b"""<!doctype html><html><head><meta charset="utf-8"><title>floor</title></head><body>
<script src="/sdk.js"></script>
<script>
  const cti = new window.default({ debugMode: false, eventHandlers: {
    onReady: () => cti.initialized({ isLoggedIn: false, sizeInfo: { width: 400, height: 600 } }) } });
</script></body></html>"""


def wait_until_up(url: str, process, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server for {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer within {timeout} s")


def start_app(workdir: str, port: int):
    """The demo app exactly as `python -m widget_app` runs it, on SQLite in a temp folder."""
    env = {**os.environ, "WIDGET_MODE": "demo", "PORT": str(port), "SECRET_KEY": "bench-secret",
           "DATABASE_URL": f"sqlite:///{workdir}/bench.db", "SYNC_WORKER": "false",
           "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen([sys.executable, "-m", "widget_app"], cwd=workdir, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
    return process


def start_floor(workdir: str, port: int):
    """The floor: a page with only the SDK bundle and the lines that answer the handshake."""
    floor = os.path.join(workdir, "floor")
    os.makedirs(floor)
    shutil.copy(SDK_BUNDLE, os.path.join(floor, "sdk.js"))
    with open(os.path.join(floor, "index.html"), "wb") as fh:
        fh.write(FLOOR_HTML)
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", floor], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(f"http://127.0.0.1:{port}/index.html", process)
    return process


def measure(browser, simulator_url: str, own_origin: str, loads: int):
    """Median ms from navigation to INITIALIZED, and the bytes of own (non-vendor) resources."""
    times, own_bytes = [], None
    for _ in range(loads):
        context = browser.new_context()
        page = context.new_page()
        sizes = {}

        def count(response, sizes=sizes):  # this iteration's dict
            url = response.url
            vendored = any(name in url for name in VENDORED) or url.endswith("/sdk.js")
            if url.startswith(own_origin) and not vendored:
                try:
                    body = response.body()  # decoded
                    served = int(response.headers.get("content-length") or len(body))
                    sizes[url] = (len(body), served, len(gzip.compress(body)))
                except Exception:  # a response without a body (redirect, aborted)
                    pass

        page.on("response", count)
        page.goto(simulator_url)
        page.wait_for_function("() => window.simulatorLog.some(e => e.type === 'INITIALIZED')", timeout=30000)
        times.append(page.evaluate("window.simulatorLog.find(e => e.type === 'INITIALIZED').t"))
        page.wait_for_load_state("networkidle")
        if own_bytes is None:
            own_bytes = sizes
        context.close()
    return statistics.median(times), own_bytes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=20)
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("Debian's chromium is needed (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    workdir = tempfile.mkdtemp(prefix="widget-bench-")
    app_port, floor_port = free_port(), free_port()
    servers = [start_app(workdir, app_port), start_floor(workdir, floor_port)]
    simulator = f"http://127.0.0.1:{app_port}/dev/hubspot"
    floor_url = f"http://localhost:{floor_port}/index.html"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            floor_ms, floor_own = measure(browser, f"{simulator}?src={floor_url}",
                                          f"http://localhost:{floor_port}", args.loads)
            widget_ms, widget_own = measure(browser, simulator, f"http://localhost:{app_port}", args.loads)
            browser.close()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    sdk_bytes = os.path.getsize(SDK_BUNDLE)
    floor_bytes, widget_bytes = (sum(raw for raw, _, _ in own.values()) for own in (floor_own, widget_own))
    floor_served, widget_served = (sum(served for _, served, _ in own.values()) for own in (floor_own, widget_own))
    print(f"Navigation to INITIALIZED, cross-origin in the HubSpot simulator, median of {args.loads} cold loads")
    print(f"(both also load HubSpot's SDK bundle, {sdk_bytes:,} bytes, not counted below)\n")
    print(f"  {'page':<34}{'files':>6}{'own bytes served':>18}{'plain':>10}{'median':>12}")
    for name, own, served, plain, ms in (("floor (SDK + handshake only)", floor_own, floor_served, floor_bytes, floor_ms),
                                         ("our widget (/widget)", widget_own, widget_served, widget_bytes, widget_ms)):
        print(f"  {name:<34}{len(own):>6}{served:>12,} bytes{plain:>10,}{ms:>9.1f} ms")
    print(f"\n  our widget / floor: {widget_ms / floor_ms:.2f}x the time;"
          f" adds {widget_served - floor_served:,} bytes as served and {widget_ms - floor_ms:.1f} ms"
          f" (aim: under 30,000 bytes and under 100 ms)")
    print("\n  our files (plain, served, gzip -9 of plain):")
    for url, (raw, served, packed) in sorted(widget_own.items(), key=lambda item: -item[1][0]):
        print(f"    {raw:>7,} {served:>7,} {packed:>7,}  {url.split(str(app_port), 1)[1]}")


if __name__ == "__main__":
    main()
