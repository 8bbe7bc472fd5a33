"""Pages: the widget HubSpot frames, the HubSpot simulator (demo only), and the health check."""
import logging

from flask import Blueprint, abort, current_app, jsonify, make_response, render_template

from widget_app.models import db

bp = Blueprint("widget", __name__)
log = logging.getLogger(__name__)

# HubSpot's default call outcomes (hs_call_disposition GUIDs); the wrap-up picker offers these.
CALL_OUTCOMES = [
    {"id": "f240bbac-87c9-4f6e-bf70-924b57d47db7", "label": "Connected"},
    {"id": "9d9162e7-6cf3-4944-bf63-4dff82258764", "label": "Busy"},
    {"id": "73a0d17f-1163-4015-bdd5-ec830791da20", "label": "No answer"},
    {"id": "a4c4c377-d246-4b32-a13b-75a56a4cd0ff", "label": "Left live message"},
    {"id": "b2cf5968-551e-4856-9783-52b3da59a7d0", "label": "Left voicemail"},
    {"id": "17b47fee-58de-441e-a44c-c6300d46f273", "label": "Wrong number"},
]


@bp.get("/widget")
def widget():
    """The calling widget HubSpot loads in its iframe."""
    return render_template("widget/index.html", mode=current_app.config["WIDGET_MODE"], outcomes=CALL_OUTCOMES)


def _simulator_page(role: str):
    """Render a simulator page; it frames the widget from the other loopback origin, so allow that."""
    if current_app.config["WIDGET_MODE"] != "demo":
        abort(404)
    response = make_response(render_template("dev/hubspot.html", role=role))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-src 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'self'; "
        "base-uri 'self'; form-action 'self'; object-src 'none'")
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


@bp.get("/healthz")
def healthz():
    """200 when the database (and Redis, when configured) answer; 503 naming what failed."""
    failed = {}
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error means "not healthy"
        failed["database"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if current_app.config.get("REDIS_URL"):
        try:
            import redis
            redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2).ping()
        except Exception as exc:  # noqa: BLE001 - any client error means "not healthy"
            failed["redis"] = str(exc) or type(exc).__name__
    if failed:
        log.warning("health check failed: %s", failed)
        return jsonify({"status": "unavailable", "failed": failed}), 503
    return jsonify({"status": "ok"})
