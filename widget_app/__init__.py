"""The WhatsApp calling widget for HubSpot: the application factory, and the map of the app.

Each feature is a package (agents, permissions, calls, hubspot, twilio, realtime, web); this file
registers their blueprints, CLI groups and hooks. ``demo`` (the simulated Twilio and HubSpot clouds)
is imported only in demo mode. docs/architecture.md draws the layers.
"""
import logging
import os

from flask import Flask
from gevent import monkey
from psycogreen.gevent import patch_psycopg

from widget_app import config as config_module
from widget_app import db
from widget_app.admin import routes as admin_routes
from widget_app.agents import routes as agent_routes
from widget_app.agents.cli import agents_cli
from widget_app.calls import history as call_history
from widget_app.calls import routes as call_routes
from widget_app.calls import senders
from widget_app.calls.cli import numbers_cli
from widget_app.doctor.cli import doctor_command
from widget_app.hubspot import cli as hubspot_cli
from widget_app.hubspot import routes as hubspot_routes
from widget_app.hubspot import worker as hubspot_worker
from widget_app.permissions import routes as permission_routes
from widget_app.realtime import hub, socket
from widget_app.twilio import webhooks as twilio_webhooks
from widget_app.web import assets, auth, converters, errors, inputs, pages, security

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENDOR_BUNDLES = ("calling-extensions-sdk.js", "twilio.min.js")
BLUEPRINTS = (errors.bp, pages.bp, agent_routes.bp, permission_routes.bp, call_routes.bp, call_history.bp,
              twilio_webhooks.bp, hubspot_routes.bp, admin_routes.bp)


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, database, blueprints, CLI. ``config`` overrides the environment."""
    app = Flask(__name__, instance_path=os.path.join(ROOT, "instance"),
                template_folder=os.path.join(ROOT, "templates"), static_folder=os.path.join(ROOT, "static"))
    if config and config.get("INSTANCE_PATH"):
        app.instance_path = config["INSTANCE_PATH"]
    app.config.update(config_module.load_settings(config, app.instance_path))
    _cooperative_database_driver()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _check_vendor_bundles(app)

    db.init_app(app)
    converters.init_app(app)  # before any blueprint: rules bind their converters when added
    senders.warn_senders_that_cannot_call_out(app)
    assets.init_app(app)
    security.init_app(app)
    inputs.init_app(app)
    auth.init_app(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    hub.init_app(app)
    socket.init_app(app)
    for group in (agents_cli, numbers_cli, doctor_command):
        app.cli.add_command(group)
    hubspot_cli.init_app(app)
    hubspot_worker.init_app(app)
    if app.config["WIDGET_MODE"] == "demo":
        # Imported here, not at the top: a live deployment never loads the simulated clouds.
        from widget_app import demo
        demo.init_app(app)
    return app


def _cooperative_database_driver():
    """Under gunicorn's gevent worker (the Procfile's), the standard library is already patched; psycopg2
    is C and needs its own hook, or every query would stall every socket of the process."""
    if monkey.is_module_patched("socket"):
        patch_psycopg()


def _check_vendor_bundles(app: Flask):
    """The widget cannot work without HubSpot's SDK bundle and Twilio's Voice SDK: refuse to start."""
    vendor = os.path.join(app.static_folder, "vendor")
    missing = [name for name in VENDOR_BUNDLES if not os.path.isfile(os.path.join(vendor, name))]
    if missing:
        config_module.fail(f"Missing browser bundles in static/vendor/: {', '.join(missing)}. "
                           "Run `npm ci` in the project folder first.")
