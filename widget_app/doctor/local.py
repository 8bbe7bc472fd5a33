"""Checks that need no outside service: the settings, the database schema, Redis."""
from urllib.parse import urlsplit

import redis
from flask import current_app

from widget_app import db as db_module
from widget_app.doctor.findings import fail, ok, warn

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


def check_settings() -> list:
    """Live mode, and a PUBLIC_BASE_URL that Twilio and HubSpot can reach and sign over."""
    config = current_app.config
    if config["WIDGET_MODE"] != "live":
        return [fail("mode", "WIDGET_MODE is demo: Twilio and HubSpot are simulated, nothing live to check",
                     "set WIDGET_MODE=live and the Twilio and HubSpot settings (README: Settings)")]
    base = config.get("PUBLIC_BASE_URL") or ""
    parts = urlsplit(base)
    if parts.scheme != "https" or not parts.hostname or parts.hostname in LOOPBACK_HOSTS:
        return [fail("PUBLIC_BASE_URL", f"{base or '(unset)'} is not a public https origin",
                     "set PUBLIC_BASE_URL to the https origin Twilio and HubSpot reach, e.g. https://your-app.herokuapp.com")]
    if parts.path not in ("", "/") or parts.query:
        return [fail("PUBLIC_BASE_URL", f"{base} has a path or a query",
                     "set PUBLIC_BASE_URL to the bare origin (scheme and host), no path")]
    return [ok("mode", "live"), ok("PUBLIC_BASE_URL", base)]


def check_database() -> list:
    """The database answers and its schema is at the latest migration."""
    try:
        with current_app.extensions["database"].connection_context():
            current_app.extensions["database"].execute_sql("SELECT 1")
            version = db_module.current_version()
    except Exception as exc:  # any driver error: the message names the database, never a password
        return [fail("database", f"does not answer ({type(exc).__name__})",
                     "check DATABASE_URL and that the database server runs and accepts this app")]
    latest = max(step[0] for step in db_module.MIGRATIONS)
    if version < latest:
        return [fail("database", f"schema version {version}, the code needs {latest}",
                     "run `flask --app wsgi db upgrade` (the Procfile's release step does it on each deploy)")]
    return [ok("database", f"answers; schema version {version}")]


def check_redis() -> list:
    """Redis answers when set; without it, socket events reach only the process that sent them."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return [warn("Redis", "REDIS_URL is not set: real-time events stay inside one process",
                     "add Redis (heroku-redis, dokku redis:link) when running more than one worker or host")]
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as exc:
        return [fail("Redis", f"REDIS_URL does not answer ({type(exc).__name__}: {_without_url(exc)})",
                     "check REDIS_URL and that Redis runs; for a self-signed rediss:// certificate (Heroku Redis) set REDIS_TLS_VERIFY=false")]
    return [ok("Redis", "answers")]


def _without_url(exc) -> str:
    """The error's text, cut short: redis-py never puts the password in it, but keep it one line."""
    return str(exc).splitlines()[0][:120] if str(exc) else ""
