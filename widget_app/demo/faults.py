"""The simulator's fault switches: HubSpot answers 429 or 5xx next, Twilio delivers callbacks twice or
out of order. What they change lives in the simulated clouds; our code runs as in live mode."""
from flask import current_app

from widget_app.core.errors import DomainError
from widget_app.demo.blueprint import demo_blueprint
from widget_app.demo.hubspot_cloud import FAULTS
from widget_app.web.jsonbody import json_body

bp = demo_blueprint("demo_faults", __name__)
HOLD_BACK = 0.5  # seconds an early callback is held back when the simulator delivers out of order
DELIVERY = "demo_twilio_delivery"  # app.extensions key: {"duplicate": bool, "out_of_order": bool}


def delivery(app) -> dict:
    """How the simulated Twilio delivers status callbacks now."""
    return app.extensions.setdefault(DELIVERY, {"duplicate": False, "out_of_order": False})


@bp.post("/hubspot/fail")
def hubspot_fail():
    """The next ``count`` HubSpot requests answer ``status`` (429, 500, 502 or 503)."""
    body = json_body(status=int, count=(int, 1))
    if body["status"] not in FAULTS or not 1 <= body["count"] <= 100:
        raise DomainError("invalid_field", f"status must be one of {sorted(FAULTS)}; count 1 to 100.", field="status")
    current_app.extensions["hubspot_demo_cloud"].fail_next(body["status"], body["count"])
    return {"failing": body}


@bp.post("/twilio/delivery")
def twilio_delivery():
    """Twilio's callbacks from now on: each sent twice, and/or early ones held back behind later ones."""
    body = json_body(duplicate=(bool, False), out_of_order=(bool, False))
    delivery(current_app).update(body)
    return {"delivery": delivery(current_app)}
