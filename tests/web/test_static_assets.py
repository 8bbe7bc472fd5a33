"""The widget page's files (issue 16, item 6): our JavaScript as one minified bundle with a source
map and our CSS minified, built by `npm ci` under content-hashed names, served precompressed
(brotli, gzip) with year-long cache headers; the page loads nothing else of ours up front."""
import gzip
import json
import os
import re
import shutil
import subprocess

import pytest

from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app.config import ConfigError
from widget_app.web import assets

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOT_THE_WIDGET = ("simulator.js", "admin.js")  # the simulator page's and the admin console's own bundles
YEAR = 365 * 24 * 3600


def page_files(html: str) -> dict[str, list[str]]:
    """What the page itself asks the browser to fetch before any script runs."""
    return {"stylesheets": re.findall(r'<link rel="stylesheet" href="([^"]+)"', html),
            "preloads": re.findall(r'<link rel="modulepreload" href="([^"]+)"', html),
            "scripts": re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', html)}


def test_the_widget_page_loads_one_stylesheet_one_bundle_and_the_sdk(client):
    files = page_files(client.get("/widget").get_data(as_text=True))
    assert files["preloads"] == []
    assert len(files["stylesheets"]) == 1 and re.fullmatch(r"/static/dist/widget-[0-9A-Z]{8}\.css",
                                                           files["stylesheets"][0])
    sdk, bundle = files["scripts"]
    assert re.fullmatch(r"/static/dist/calling-extensions-sdk-[0-9A-Z]{8}\.js", sdk)
    assert re.fullmatch(r"/static/dist/widget-[0-9A-Z]{8}\.js", bundle)


def test_the_bundle_carries_every_module_and_points_to_its_source_map(client):
    bundle = page_files(client.get("/widget").get_data(as_text=True))["scripts"][1]
    with client.get(bundle) as response:
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        source = response.get_data(as_text=True)
    sources_size = sum(os.path.getsize(os.path.join(ROOT, "static", "js", name))
                       for name in os.listdir(os.path.join(ROOT, "static", "js")) if name not in NOT_THE_WIDGET)
    assert len(source) < 0.7 * sources_size, "minified"
    assert "localStorage" not in source and "sessionStorage" not in source and "document.cookie" not in source
    map_name = re.search(r"//# sourceMappingURL=(\S+)\s*$", source).group(1)
    with client.get(bundle.rsplit("/", 1)[0] + "/" + map_name) as response:
        sources = json.loads(response.get_data())["sources"]
    modules = {os.path.basename(name) for name in sources}
    ours = {name for name in os.listdir(os.path.join(ROOT, "static", "js")) if name not in NOT_THE_WIDGET}
    assert ours <= modules, "every module the widget imports is in the one bundle"


@pytest.mark.parametrize("encoding, suffix", [("br", ".br"), ("gzip", ".gz")])
def test_bundles_are_served_compressed_and_cached_for_a_year(client, encoding, suffix):
    files = page_files(client.get("/widget").get_data(as_text=True))
    for url in files["stylesheets"] + files["scripts"]:
        with client.get(url, headers={"Accept-Encoding": encoding}) as response:
            assert response.status_code == 200
            assert response.headers["Content-Encoding"] == encoding, url
            assert "Accept-Encoding" in response.headers["Vary"]
            cache = response.headers["Cache-Control"]
            assert "immutable" in cache and int(re.search(r"max-age=(\d+)", cache).group(1)) >= YEAR, cache
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            with open(os.path.join(ROOT, url.lstrip("/")) + suffix, "rb") as fh:
                assert response.get_data() == fh.read()
        if encoding == "gzip":
            with client.get(url) as plain:
                assert gzip.decompress(response.get_data()) == plain.get_data()
                assert "Content-Encoding" not in plain.headers


def test_files_without_a_content_hash_are_not_cached_for_long(client):
    with client.get("/static/js/simulator.js") as response:
        assert response.status_code == 200
        age = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))
    assert age <= 3600 and "immutable" not in response.headers["Cache-Control"]


def test_the_served_bundles_are_built_from_the_current_sources(tmp_path):
    """A stale static/dist/ (sources edited, `npm run build` not run) would test yesterday's widget."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required (the bundles are built with esbuild)")
    subprocess.run([node, os.path.join(ROOT, "scripts", "build-assets.mjs")], cwd=ROOT, check=True, timeout=120,
                   env={**os.environ, "ASSETS_OUT": str(tmp_path)}, capture_output=True)
    fresh, served = json.loads((tmp_path / "manifest.json").read_text()), assets.load_manifest(os.path.join(ROOT, "static"))
    assert fresh.keys() == served.keys()
    for name in fresh:  # the code itself; the source map's paths differ with the folder it was built in
        new = (tmp_path / fresh[name]).read_bytes()
        with open(os.path.join(ROOT, "static", "dist", served[name]), "rb") as fh:
            old = fh.read()
        assert without_map_comment(new) == without_map_comment(old), f"{name}: run `npm run build`"


def without_map_comment(code: bytes) -> bytes:
    return re.sub(rb"\n?/[/*]# sourceMappingURL=\S+( \*/)?\s*$", b"", code)


def test_the_app_refuses_to_start_without_the_bundles(tmp_path, monkeypatch):
    monkeypatch.setattr(assets, "MANIFEST", os.path.join("dist", "no-such-manifest.json"))
    with pytest.raises(ConfigError, match="npm ci"):
        create_app({**TEST_SETTINGS, "DATABASE_URL": f"sqlite:///{tmp_path}/widget.db",
                    "INSTANCE_PATH": str(tmp_path / "instance")})
