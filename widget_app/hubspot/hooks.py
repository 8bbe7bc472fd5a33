"""Requests HubSpot sends us: channel connection, authenticated recordings, OAuth install."""
from flask import Blueprint

bp = Blueprint("hubspot_hooks", __name__, url_prefix="/hubspot")
