"""Twilio webhook signatures: X-Twilio-Signature over the public URL Twilio requested."""
from flask import current_app, request
from twilio.request_validator import RequestValidator


def public_url() -> str:
    """The URL as Twilio called it: PUBLIC_BASE_URL + path + query when configured, else the request's."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        return request.url
    path = request.full_path
    if path.endswith("?") and not request.query_string:
        path = path[:-1]
    return base.rstrip("/") + path


def is_valid_twilio_request() -> bool:
    validator = RequestValidator(current_app.config["TWILIO_AUTH_TOKEN"])
    signature = request.headers.get("X-Twilio-Signature", "")
    return bool(signature) and validator.validate(public_url(), request.form, signature)


def sign(url: str, params: dict, auth_token: str) -> str:
    """Compute the signature Twilio would send (used by demo mode's simulated cloud and tests)."""
    return RequestValidator(auth_token).compute_signature(url, params)
