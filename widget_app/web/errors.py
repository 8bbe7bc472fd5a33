"""One error shape for every JSON caller, HTML for pages: ``{"error": {"code", "message"}}``.

Features raise ``DomainError(code, message)``; the table below is the only place a code becomes an
HTTP status. Request guards of the web layer (sign-in, webhook signatures) raise ``HttpError`` with
their status, because the same code means 401 to HubSpot's webhooks and 403 to Twilio's.
"""
import logging

from flask import Blueprint, jsonify, render_template, request
from playhouse.pool import MaxConnectionsExceeded
from werkzeug.exceptions import HTTPException

from widget_app.core.errors import DomainError
from widget_app.extensions import db

bp = Blueprint("errors", __name__)
log = logging.getLogger(__name__)

# Paths whose callers are programs (the widget's fetch, Twilio, HubSpot): they get JSON.
JSON_PREFIXES = ("/api/", "/twilio/", "/hubspot/", "/dev/api/", "/healthz")

STATUS_BY_CODE = {
    # the request itself is wrong
    "invalid_json": 400, "missing_field": 400, "invalid_field": 400, "invalid_phone": 400,
    "invalid_sender": 400, "invalid_recording": 400, "invalid_state": 400, "invalid_request": 400,
    "oauth_denied": 400, "invalid_agent": 400,
    # who is asking
    "unauthorized": 401, "invalid_credentials": 401,
    "invalid_token": 403, "link_expired": 403, "wrong_identity": 403, "permission_required": 403,
    "admin_required": 403, "owner_not_confirmed": 403, "portal_not_served": 403,
    # what it is about
    "not_found": 404, "call_not_found": 404, "recording_not_found": 404, "oauth_not_configured": 404,
    "invite_not_configured": 404,
    # the state does not allow it
    "already_granted": 409, "request_in_progress": 409, "already_claimed": 409, "call_not_ringing": 409,
    "not_claimed": 409, "no_active_call": 409, "no_sender": 409, "already_synced": 409,
    "wrapup_closed": 409, "call_not_ended": 409,
    "engagement_in_use": 409,
    "sender_cannot_call_out": 409, "last_admin": 409, "not_a_voicemail": 409,
    # limits
    "too_many_attempts": 429, "permission_rate_limited": 429, "call_limit_reached": 429,
    # someone else failed
    "twilio_error": 502, "twilio_unreachable": 502, "hubspot_error": 502, "recording_unavailable": 502, "webhook_failed": 502,
}


class HttpError(DomainError):
    """A refusal of the web layer itself, with its own status (sign-in, signatures)."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(code, message, **extra)
        self.status = status


def status_for(error: DomainError) -> int:
    if isinstance(error, HttpError):
        return error.status
    status = STATUS_BY_CODE.get(error.code)
    if status is None:
        log.error("no HTTP status for error code %r; answering 400", error.code)
        return 400
    return status


def error_response(error: DomainError):
    """The contract's JSON body and the status the table gives."""
    body = {"error": {"code": error.code, "message": error.message, **error.extra}}
    return jsonify(body), status_for(error)


def json_error(status: int, code: str, message: str):
    return error_response(HttpError(status, code, message))


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json"


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


@bp.app_errorhandler(DomainError)
def handle_domain_error(exc: DomainError):
    """Domain errors raised anywhere become the contract's JSON shape."""
    return error_response(exc)


@bp.app_errorhandler(HTTPException)
def handle_http_error(exc: HTTPException):
    """404/405/413 and friends: JSON for programs, the HTML error page for people."""
    if wants_json():
        return json_error(exc.code or 500, _code_for(exc), exc.description or exc.name)
    return render_template("error.html", code=exc.code, title=exc.name, message=exc.description), exc.code


@bp.app_errorhandler(MaxConnectionsExceeded)
def handle_pool_exhausted(exc: MaxConnectionsExceeded):
    """Every pooled connection stayed busy past DATABASE_POOL_TIMEOUT: ask the caller to come back."""
    log.warning("no database connection free on %s %s: %s", request.method, request.path, exc)
    message = "The service is busy; please try again in a moment."
    if wants_json():
        return json_error(503, "database_busy", message)
    return render_template("error.html", code=503, title="Busy", message=message), 503


@bp.app_errorhandler(Exception)
def handle_unexpected(exc: Exception):
    """A bug: log it, roll back, and answer 500 without leaking internals."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    try:
        if not db.is_closed() and db.in_transaction():
            db.rollback()
    except Exception:  # pragma: no cover - the connection itself may be broken
        log.exception("rollback after error failed")
    if wants_json():
        return json_error(500, "internal_error", "Something went wrong on our side.")
    return render_template("error.html", code=500, title="Internal error",
                           message="Something went wrong on our side."), 500
