"""HTTP API for saving a call (queued for HubSpot), the agent's history, and sync retries."""
from flask import Blueprint

bp = Blueprint("history_api", __name__, url_prefix="/api")
