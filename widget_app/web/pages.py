"""Pages: the widget HubSpot frames, and the health check."""
import logging

import redis
from flask import Blueprint, current_app, jsonify, render_template

from widget_app.extensions import db
from widget_app.hubspot.engagements import CALL_OUTCOMES

bp = Blueprint("widget", __name__)
log = logging.getLogger(__name__)

@bp.get("/widget")
def widget():
    """The calling widget HubSpot loads in its iframe."""
    return render_template("widget/index.html", mode=current_app.config["WIDGET_MODE"], outcomes=CALL_OUTCOMES)


@bp.get("/healthz")
def healthz():
    """200 when the database (and Redis, when configured) answer; 503 naming what failed, not where it lives.

    Anyone may ask, so the answer holds no host, port or driver message; the log keeps those. Redis
    counts as failed too while this process's real-time hub has lost its subscription.
    """
    failed = {}
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT 1")
    except Exception as exc:
        failed["database"] = "unavailable"
        log.warning("health check: the database failed: %s", str(exc).splitlines()[0] if str(exc) else type(exc))
    if current_app.config.get("REDIS_URL"):
        try:
            redis.Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2, socket_timeout=2).ping()
        except Exception as exc:
            failed["redis"] = "unavailable"
            log.warning("health check: Redis failed: %s", str(exc) or type(exc))
        else:
            if current_app.extensions["realtime"].is_degraded():
                failed["redis"] = "this process is not subscribed yet; rings reach its sockets from the database"
    if failed:
        return jsonify({"status": "unavailable", "failed": failed}), 503
    return jsonify({"status": "ok"})
