"""Response headers for a page that HubSpot frames cross-site (CSP, no X-Frame-Options)."""
import re

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix


def frame_ancestors(app) -> str:
    """Who may frame us: FRAME_ANCESTORS, plus the simulator's own origins in demo mode."""
    sources = re.split(r"[\s,]+", app.config["FRAME_ANCESTORS"].strip())  # spaces or commas
    if app.config["WIDGET_MODE"] == "demo":
        sources += ["'self'", "http://127.0.0.1:*", "http://localhost:*"]
    return " ".join(dict.fromkeys(sources))


# Twilio's Voice SDK talks to Twilio over https/wss and plays media streams.
WIDGET_CONNECT_SRC = "'self' ws: wss: https://*.twilio.com wss://*.twilio.com"
WIDGET_MEDIA_SRC = "'self' mediastream: blob: https://*.twilio.com https://media.twiliocdn.com"


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
            frame_ancestors(app), connect_src=WIDGET_CONNECT_SRC, media_src=WIDGET_MEDIA_SRC))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers.setdefault("Permissions-Policy", "microphone=(self)")
        if request.path.startswith("/api/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
