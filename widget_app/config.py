"""Settings from the environment (and `.env`), with safe defaults for demo mode (CONTRACT §1-2)."""
import os
import re
import secrets
import sys

from dotenv import load_dotenv
from flask import current_app, request

# Demo mode plays Twilio's cloud in-process; these stand-ins let it sign webhooks for real.
DEMO_TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "d" * 32,
    "TWILIO_AUTH_TOKEN": "demo-twilio-auth-token",
    "TWILIO_API_KEY_SID": "SK" + "d" * 32,
    "TWILIO_API_KEY_SECRET": "demo-twilio-api-key-secret-00000",  # 32 bytes, like a real one
    "TWILIO_TWIML_APP_SID": "AP" + "d" * 32,
    "TWILIO_WHATSAPP_NUMBER": "+442071838750",
    "TWILIO_PERMISSION_CONTENT_SID": "HX" + "d" * 32,
    "TWILIO_CALL_INVITE_CONTENT_SID": "HX" + "e" * 32,
}
DEMO_HUBSPOT = {
    "HUBSPOT_ACCESS_TOKEN": "demo-hubspot-token",
    "HUBSPOT_CLIENT_ID": "demo-client-id",
    "HUBSPOT_CLIENT_SECRET": "demo-client-secret",
    "HUBSPOT_APP_ID": "123456",
    "HUBSPOT_DEVELOPER_API_KEY": "demo-developer-key",
}

DEFAULTS = {
    "WIDGET_MODE": None,  # decided in load_settings
    "SECRET_KEY": None,
    "DATABASE_URL": "sqlite:///instance/widget.db",
    "DATABASE_POOL_MAX": 10,  # PostgreSQL connections per process, at most (workers x this, in all)
    "DATABASE_POOL_TIMEOUT": 10,  # seconds a request waits for a free connection before a 503
    "REDIS_URL": None,
    "REDIS_TLS_VERIFY": True,  # false: accept a rediss:// server's self-signed certificate (Heroku Redis)
    "PUBLIC_BASE_URL": None,
    "FRAME_ANCESTORS": "https://*.hubspot.com",
    "TRUSTED_PROXIES": 0,  # reverse proxies in front (Heroku: 1); their X-Forwarded-For names the client
    "TWILIO_ACCOUNT_SID": None,
    "TWILIO_AUTH_TOKEN": None,
    "TWILIO_API_KEY_SID": None,
    "TWILIO_API_KEY_SECRET": None,
    "TWILIO_TWIML_APP_SID": None,
    "TWILIO_WHATSAPP_NUMBER": None,
    "TWILIO_PERMISSION_CONTENT_SID": None,
    "TWILIO_CALL_INVITE_CONTENT_SID": None,  # a Content template (HX…) with a VOICE_CALL "Call us" button
    "HUBSPOT_ACCESS_TOKEN": None,
    "HUBSPOT_CLIENT_ID": None,
    "HUBSPOT_CLIENT_SECRET": None,
    "HUBSPOT_APP_ID": None,
    "HUBSPOT_DEVELOPER_API_KEY": None,
    "HUBSPOT_API_BASE": "https://api.hubapi.com",
    "HUBSPOT_API_VERSION": "2026-03",  # HubSpot's date-based API version of every path we call
    "PERMISSION_WINDOW_HOURS": 72,
    "PERMISSION_REQUESTS_PER_DAY": 1,
    "PERMISSION_REQUESTS_PER_WEEK": 2,
    "MISSED_CALLS_BEFORE_REVOKE": 4,
    "MAX_CONNECTED_CALLS_PER_DAY": 5,
    "RECORD_CALLS": False,
    "CALLBACK_PERMISSION": False,  # Meta's callback_permission_status is ENABLED on our numbers
    "FOLLOW_UP_TASKS": True,  # a HubSpot "Call back" task for every missed inbound call
    "FOLLOW_UP_TASK_DELAY_MINUTES": 60,  # the task is due this long after the missed call
    "FOLLOW_UP_TASK_OWNER_ID": None,  # HubSpot owner of tasks for callers without a contact owner
    # what a caller hears outside a number's business hours (`flask numbers hours`), instead of ringing
    "AFTER_HOURS_MESSAGE": "Thank you for calling. We are closed now; please call again during our opening hours.",
    "RECORDING_CONSENT_MESSAGE": None,
    # a call nobody answers (nobody available, all declined, rang out, after hours) can leave a voicemail
    "VOICEMAIL": True,
    "VOICEMAIL_GREETING": "Please leave a message after the tone and we will call you back.",
    "VOICEMAIL_MAX_SECONDS": 120,  # Twilio's <Record maxLength>
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "SYNC_WORKER": True,  # drain the HubSpot outbox from a thread in the web process
}
INT_SETTINGS = {"PERMISSION_WINDOW_HOURS", "PERMISSION_REQUESTS_PER_DAY", "PERMISSION_REQUESTS_PER_WEEK",
                "MISSED_CALLS_BEFORE_REVOKE", "MAX_CONNECTED_CALLS_PER_DAY", "MAX_CONTENT_LENGTH",
                "TRUSTED_PROXIES", "DATABASE_POOL_MAX", "DATABASE_POOL_TIMEOUT", "FOLLOW_UP_TASK_DELAY_MINUTES",
                "VOICEMAIL_MAX_SECONDS"}
BOOL_SETTINGS = {"RECORD_CALLS", "SYNC_WORKER", "REDIS_TLS_VERIFY", "CALLBACK_PERMISSION", "FOLLOW_UP_TASKS",
                 "VOICEMAIL"}

# What `live` cannot run without. HubSpot needs a private-app token or an OAuth client.
LIVE_REQUIRED = ["SECRET_KEY", "PUBLIC_BASE_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN",
                 "TWILIO_API_KEY_SID", "TWILIO_API_KEY_SECRET", "TWILIO_TWIML_APP_SID",
                 "TWILIO_WHATSAPP_NUMBER", "TWILIO_PERMISSION_CONTENT_SID"]


class ConfigError(SystemExit):
    """Raised at start-up when a setting is missing or wrong; the message names what to fix."""


def _coerce(name, value):
    if value is None or value == "":
        return None
    if name in INT_SETTINGS:
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a whole number, got {value!r}") from None
    if name in BOOL_SETTINGS and isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return value


def normalise_database_url(url: str) -> str:
    """Heroku-style ``postgres://`` URLs are PostgreSQL to peewee too."""
    return "postgresql://" + url[len("postgres://"):] if url.startswith("postgres://") else url


def normalise_redis_url(url: str | None, verify: bool) -> str | None:
    """Heroku Redis serves rediss:// with a self-signed certificate: with REDIS_TLS_VERIFY off, say so to redis-py."""
    if not url or verify or not url.startswith("rediss://") or "ssl_cert_reqs=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "ssl_cert_reqs=none"


def load_settings(overrides: dict | None, instance_path: str) -> dict:
    """Environment, then `.env`, then ``overrides`` (tests); demo fills in the simulated clouds."""
    load_dotenv(os.path.join(os.getcwd(), ".env"), override=False)
    overrides = overrides or {}
    settings = {}
    for name, default in DEFAULTS.items():
        value = overrides[name] if name in overrides else os.environ.get(name, default)
        settings[name] = _coerce(name, value) if value is not None else None
        if settings[name] is None and default is not None:
            settings[name] = default
    mode = settings["WIDGET_MODE"] or ("live" if settings["TWILIO_ACCOUNT_SID"] else "demo")
    if mode not in ("demo", "live"):
        raise ConfigError(f"WIDGET_MODE must be 'demo' or 'live', got {mode!r}")
    settings["WIDGET_MODE"] = mode
    settings["DATABASE_URL"] = normalise_database_url(settings["DATABASE_URL"])
    settings["REDIS_URL"] = normalise_redis_url(settings["REDIS_URL"], settings["REDIS_TLS_VERIFY"])
    if not re.fullmatch(r"\d{4}-\d{2}", str(settings["HUBSPOT_API_VERSION"])):
        raise ConfigError(f"HUBSPOT_API_VERSION must be HubSpot's date-based version, e.g. 2026-03; "
                          f"got {settings['HUBSPOT_API_VERSION']!r}")
    if mode == "live":
        missing = [name for name in LIVE_REQUIRED if not settings[name]]
        if not settings["HUBSPOT_ACCESS_TOKEN"] and not (settings["HUBSPOT_CLIENT_ID"] and settings["HUBSPOT_CLIENT_SECRET"]):
            missing.append("HUBSPOT_ACCESS_TOKEN (or HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET)")
        if missing:
            raise ConfigError("WIDGET_MODE=live is missing required settings: " + ", ".join(missing))
    else:
        for name, value in {**DEMO_TWILIO, **DEMO_HUBSPOT}.items():
            if not settings[name]:
                settings[name] = value
        if not settings["SECRET_KEY"]:
            settings["SECRET_KEY"] = _demo_secret(instance_path)
    for name, value in overrides.items():
        if name not in settings:
            settings[name] = value
    return settings


def _demo_secret(instance_path: str) -> str:
    """Demo mode keeps one generated secret in instance/, so tokens survive restarts."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    if not os.path.exists(path):
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(secrets.token_hex(32))
    with open(path) as fh:
        return fh.read().strip()


def fail(message: str):
    """Stop start-up with a message on stderr (used for missing vendor bundles too)."""
    print(message, file=sys.stderr)
    raise ConfigError(message)


def public_base_url() -> str:
    """Our origin as Twilio and HubSpot reach it (PUBLIC_BASE_URL, else the request's), for callback URLs."""
    return (current_app.config.get("PUBLIC_BASE_URL") or request.host_url).rstrip("/")
