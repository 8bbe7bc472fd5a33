"""Twilio webhook verification: X-Twilio-Signature over the public URL Twilio requested."""
from functools import wraps

from flask import current_app, request
from twilio.request_validator import RequestValidator

from widget_app.web.errors import ApiError


def public_url() -> str:
    """The URL as Twilio called it: PUBLIC_BASE_URL + path + query when configured, else the request's."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    path = request.full_path
    if path.endswith("?") and not request.query_string:
        path = path[:-1]
    return base.rstrip("/") + path


def public_base_url() -> str:
    """Our https origin for building callback URLs Twilio and HubSpot will reach."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")


def is_valid_twilio_request() -> bool:
    validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and validator.validate(public_url(), request.form, signature)


def twilio_verified(view):
    """Reject (403, nothing changed) any request not signed with our Twilio auth token."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not is_valid_twilio_request():
            raise ApiError(403, "invalid_signature", "The Twilio signature is missing or wrong.")
        return view(*args, **kwargs)
    return wrapper


def sign(url: str, params: dict, auth_token: str) -> str:
    """Compute the signature Twilio would send (used by demo mode's simulated cloud and tests)."""
    return RequestValidator(auth_token).compute_signature(url, params)
