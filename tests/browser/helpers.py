"""Helpers the browser tests share that are not fixtures."""
import os
import struct
import zlib

from tests.helpers import require_or_skip, wait_for
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
