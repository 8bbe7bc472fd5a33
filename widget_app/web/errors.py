"""One error shape for every JSON caller, HTML for pages (CONTRACT: {"error": {code, message}})."""
import logging

from flask import Blueprint, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

# Paths whose callers are programs (the widget's fetch, Twilio, HubSpot): they get JSON.
JSON_PREFIXES = ("/api/", "/twilio/", "/hubspot/", "/dev/api/", "/healthz")


class ApiError(Exception):
    """An expected failure with an HTTP status, a snake_case code and a sentence for people."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def to_response(self):
        body = {"error": {"code": self.code, "message": self.message, **self.extra}}
        return jsonify(body), self.status


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json"


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


@bp.app_errorhandler(ApiError)
def handle_api_error(exc: ApiError):
    """Domain errors raised anywhere become the contract's JSON shape."""
    return exc.to_response()


@bp.app_errorhandler(HTTPException)
def handle_http_error(exc: HTTPException):
    """404/405/413 and friends: JSON for programs, the HTML error page for people."""
    if wants_json():
        return ApiError(exc.code or 500, _code_for(exc), exc.description or exc.name).to_response()
    return render_template("error.html", code=exc.code, title=exc.name, message=exc.description), exc.code


@bp.app_errorhandler(Exception)
def handle_unexpected(exc: Exception):
    """A bug: log it, roll back, and answer 500 without leaking internals."""
    from widget_app.models import db

    log.exception("unhandled error on %s %s", request.method, request.path)
    try:
        if not db.is_closed() and db.in_transaction():
            db.rollback()
    except Exception:  # pragma: no cover - the connection itself may be broken
        log.exception("rollback after error failed")
    if wants_json():
        return ApiError(500, "internal_error", "Something went wrong on our side.").to_response()
    return render_template("error.html", code=500, title="Internal error",
                           message="Something went wrong on our side."), 500
