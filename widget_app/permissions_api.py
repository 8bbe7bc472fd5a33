"""HTTP API of the permission rules (CONTRACT §4)."""
from flask import Blueprint

bp = Blueprint("permissions_api", __name__, url_prefix="/api/permissions")
