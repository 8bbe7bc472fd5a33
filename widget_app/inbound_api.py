"""HTTP API for inbound calls: ringing calls for the agent, accept (first one wins), decline."""
from flask import Blueprint

bp = Blueprint("inbound_api", __name__, url_prefix="/api")
