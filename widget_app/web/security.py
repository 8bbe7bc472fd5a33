"""Response headers for a page that HubSpot frames cross-site (CSP, no X-Frame-Options)."""
import re
from urllib.parse import urlsplit

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix


def frame_ancestors(app) -> str:
    """Who may frame us: FRAME_ANCESTORS, plus the simulator's own origins in demo mode."""
    sources = re.split(r"[\s,]+", app.config["FRAME_ANCESTORS"].strip())  # spaces or commas
    if app.config["WIDGET_MODE"] == "demo":
        sources += ["'self'", "http://127.0.0.1:*", "http://localhost:*"]
    return " ".join(dict.fromkeys(sources))


# Our own socket, and Twilio's Voice SDK (signalling and insights over https/wss to *.twilio.com).
VOICE_SDK_CONNECT_SRC = "https://*.twilio.com wss://*.twilio.com"
HSTS = "max-age=31536000"  # a year; not includeSubDomains: the operator's other hosts are not ours to decide
WIDGET_MEDIA_SRC = "'self' mediastream: blob: https://*.twilio.com https://media.twiliocdn.com"


def socket_origin(app) -> str:
    """The origin of our own /ws: PUBLIC_BASE_URL's host (else the request's) over wss (ws for plain http)."""
    parts = urlsplit(app.config.get("PUBLIC_BASE_URL") or request.host_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc}"


def widget_connect_src(app) -> str:
    """connect-src: ourselves, our socket's one origin, and what the Voice SDK needs; no other ws: or wss:."""
    return f"'self' {socket_origin(app)} {VOICE_SDK_CONNECT_SRC}"


def content_security_policy(frame_ancestors: str, frame_src: str | None = None, connect_src: str | None = None,
                            media_src: str | None = None, form_action: str = "'self'") -> str:
    """Our CSP: scripts, styles and images only from us; the rest as the page needs."""
    directives = ["default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:"]
    directives += [f"{name} {value}" for name, value in (("frame-src", frame_src), ("connect-src", connect_src),
                                                         ("media-src", media_src)) if value]
    directives += [f"frame-ancestors {frame_ancestors}", "base-uri 'self'", f"form-action {form_action}",
                   "object-src 'none'"]
    return "; ".join(directives)


def init_app(app):
    """Trust X-Forwarded-For only from the configured proxies (sign-in limits count client addresses)."""
    if app.config.get("TRUSTED_PROXIES"):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", content_security_policy(
            frame_ancestors(app), connect_src=widget_connect_src(app), media_src=WIDGET_MEDIA_SRC))
        if (app.config.get("PUBLIC_BASE_URL") or "").startswith("https://"):
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers.setdefault("Permissions-Policy", "microphone=(self)")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
