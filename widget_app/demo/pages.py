"""The HubSpot simulator pages: HubSpot's side of the calling SDK, played by the SDK's own IFrameManager."""
from flask import Blueprint, make_response, render_template

from widget_app.web.security import content_security_policy

bp = Blueprint("simulator", __name__)


def _simulator_page(role: str):
    """Render a simulator page; it frames the widget from the other loopback origin, so allow that."""
    response = make_response(render_template("dev/hubspot.html", role=role))
    response.headers["Content-Security-Policy"] = content_security_policy(
        frame_ancestors="'self'", frame_src="'self' http://127.0.0.1:* http://localhost:*")
    # HubSpot's page lets its calling iframe (allow="microphone") use the microphone; so must ours.
    response.headers["Permissions-Policy"] = "microphone=*"
    return response


@bp.get("/dev/hubspot")
def simulator():
    """HubSpot's side of the SDK, played by the SDK's own IFrameManager (demo mode only)."""
    return _simulator_page("page")


@bp.get("/dev/hubspot/window")
def simulator_window():
    """HubSpot's calling window: the popup that holds the `window` copy of the widget (demo only)."""
    return _simulator_page("window")
