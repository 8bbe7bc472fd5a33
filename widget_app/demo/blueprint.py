"""The blueprint helper of the simulated clouds' endpoints (demo mode registers them; live mode never does)."""
from flask import Blueprint


def demo_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under /dev/api: what the simulator's buttons call to make Twilio act."""
    return Blueprint(name, import_name, url_prefix="/dev/api")
