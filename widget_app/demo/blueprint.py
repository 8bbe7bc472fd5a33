"""Demo-mode helpers shared by the simulated clouds' blueprints."""
from flask import Blueprint, abort, current_app


def demo_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /dev/api that exists only in demo mode (404 in live)."""
    bp = Blueprint(name, import_name, url_prefix="/dev/api")

    @bp.before_request
    def _demo_only():
        if current_app.config["WIDGET_MODE"] != "demo":
            abort(404)
    return bp
