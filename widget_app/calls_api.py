"""HTTP API of calls and the browser's voice token (CONTRACT §4)."""
from flask import Blueprint

bp = Blueprint("calls_api", __name__, url_prefix="/api")
