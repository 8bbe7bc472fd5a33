"""Static files: the widget's bundles by their content-hashed names (static/dist/manifest.json, which
`npm ci` builds), served by WhiteNoise precompressed (brotli, gzip) and cached for a year."""
import json
import os
import re

from flask import url_for
from whitenoise import WhiteNoise

from widget_app import config as config_module

MANIFEST = os.path.join("dist", "manifest.json")
HASHED = re.compile(r"/dist/[^/]+-[0-9A-Z]{8}\.[a-z.]+$")  # esbuild's [hash] and ours: 8 of A-Z, 0-9
UNHASHED_MAX_AGE = 300  # the simulator's files and the plain vendor copies may change at the next deploy


def load_manifest(static_folder: str) -> dict[str, str]:
    """Name -> hashed file name of every bundle; the app cannot serve the widget without it."""
    try:
        with open(os.path.join(static_folder, MANIFEST)) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        config_module.fail("Missing the widget's bundles in static/dist/. Run `npm ci` (or `npm run build`) "
                           "in the project folder first.")


def immutable(path: str, url: str) -> bool:
    """A content-hashed file never changes under its name: browsers may keep it for a year."""
    return bool(HASHED.search(url))


def _nosniff(headers, path: str, url: str):
    """Static files skip Flask's after_request hooks; keep the one header they need."""
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app):
    """Serve /static through WhiteNoise and give templates ``asset(name)``, the bundle's hashed URL."""
    manifest = load_manifest(app.static_folder)
    app.jinja_env.globals["asset"] = lambda name: url_for("static", filename="dist/" + manifest[name])
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=app.static_folder, prefix=app.static_url_path,
                              max_age=UNHASHED_MAX_AGE, immutable_file_test=immutable,
                              add_headers_function=_nosniff, autorefresh=app.debug)
