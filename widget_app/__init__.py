"""The WhatsApp calling widget for HubSpot: application factory (CONTRACT §1)."""
import logging
import os

from flask import Flask

from . import config as config_module

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR_BUNDLES = ("calling-extensions-sdk.js", "twilio.min.js")


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, database, blueprints, CLI. ``config`` overrides the environment."""
    app = Flask(__name__, instance_path=os.path.join(ROOT, "instance"),
                template_folder=os.path.join(ROOT, "templates"), static_folder=os.path.join(ROOT, "static"))
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
    app.config.update(config_module.load_settings(config, app.instance_path))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _check_vendor_bundles(app)

    from . import db
    db.init_app(app)

    from . import (auth, calls_api, errors, permissions_api, realtime, security, views)
    from .hubspot import hooks as hubspot_hooks
    from .twilio import messaging_hooks, voice_hooks

    security.init_app(app)
    for module in (errors, views, auth, permissions_api, calls_api, messaging_hooks, voice_hooks,
                   hubspot_hooks):
        app.register_blueprint(module.bp)
    realtime.init_app(app)
    for module in (auth, calls_api):
        if hasattr(module, "init_cli"):
            module.init_cli(app)
    from .hubspot import cli as hubspot_cli
    hubspot_cli.init_app(app)
    return app


def _check_vendor_bundles(app: Flask):
    """The widget cannot work without HubSpot's SDK bundle and Twilio's Voice SDK: refuse to start."""
    vendor = os.path.join(app.static_folder, "vendor")
    missing = [name for name in VENDOR_BUNDLES if not os.path.isfile(os.path.join(vendor, name))]
    if missing:
        config_module.fail(f"Missing browser bundles in static/vendor/: {', '.join(missing)}. "
                           "Run `npm ci` in the project folder first.")
