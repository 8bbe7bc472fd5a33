"""The WhatsApp calling widget for HubSpot: application factory (CONTRACT §1)."""
import importlib
import logging
import os

from flask import Flask

from widget_app import config as config_module

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR_BUNDLES = ("calling-extensions-sdk.js", "twilio.min.js")
# Each module may define `bp` (a blueprint to register) and `init_app(app)` (CLI, threads, sockets).
MODULES = (
    ".web.errors", ".web.pages", ".agents.routes", ".permissions.routes", ".calls.routes", ".calls.inbound_routes",
    ".calls.history", ".realtime.hub", ".twilio.messaging_hooks", ".twilio.voice_hooks", ".twilio.recording_hooks",
    ".demo.messaging", ".demo.voice", ".demo.inbound",
    ".hubspot.routes", ".hubspot.cli", ".hubspot.engagements", ".hubspot.portals",
)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, database, blueprints, CLI. ``config`` overrides the environment."""
    app = Flask(__name__, instance_path=os.path.join(ROOT, "instance"),
                template_folder=os.path.join(ROOT, "templates"), static_folder=os.path.join(ROOT, "static"))
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
    app.config.update(config_module.load_settings(config, app.instance_path))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _check_vendor_bundles(app)

    from widget_app import db
    db.init_app(app)

    from widget_app.web import security
    security.init_app(app)
    for name in MODULES:
        module = importlib.import_module(name, __name__)
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)
        if hasattr(module, "init_app"):
            module.init_app(app)
    return app


def _check_vendor_bundles(app: Flask):
    """The widget cannot work without HubSpot's SDK bundle and Twilio's Voice SDK: refuse to start."""
    vendor = os.path.join(app.static_folder, "vendor")
    missing = [name for name in VENDOR_BUNDLES if not os.path.isfile(os.path.join(vendor, name))]
    if missing:
        config_module.fail(f"Missing browser bundles in static/vendor/: {', '.join(missing)}. "
                           "Run `npm ci` in the project folder first.")
