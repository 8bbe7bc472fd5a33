"""Who is signed in to the admin console: a first-party session cookie, and a CSRF token per session.

The console is our own page, not HubSpot's iframe, so an ordinary cookie works: Secure, HttpOnly,
SameSite=Lax, scoped to /admin. It names the agent, their ``token_version`` (signing out everywhere
or being disabled ends it) and a random nonce that is also the session's CSRF token: every POST form
carries it and ``require_admin`` compares them.
"""
import hmac
import secrets

from flask import current_app, g, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from widget_app.agents.accounts import TOKEN_MAX_AGE
from widget_app.models import Agent
from widget_app.web.errors import HttpError

COOKIE, COOKIE_PATH, SALT = "wa_admin", "/admin", "admin-session"
CSRF_FIELD = "csrf_token"
# Pages anyone may open: signing in, and choosing a password with a link (the link's token is checked).
PUBLIC_ENDPOINTS = {"admin.signin", "admin.start_signin", "admin.set_password", "admin.save_password"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def start_session(response, agent: Agent):
    """Set the session cookie for this admin, with a fresh CSRF nonce."""
    value = _serializer().dumps({"a": agent.id, "v": agent.token_version, "n": secrets.token_urlsafe(24)})
    response.set_cookie(COOKIE, value, max_age=TOKEN_MAX_AGE, path=COOKIE_PATH, secure=True, httponly=True,
                        samesite="Lax")
    return response


def end_session(response):
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=True, httponly=True, samesite="Lax")
    return response


def _session() -> tuple[Agent, str] | None:
    """The active agent and CSRF nonce of the request's cookie, or None (missing, expired, forged, revoked)."""
    try:
        data = _serializer().loads(request.cookies.get(COOKIE, ""), max_age=TOKEN_MAX_AGE)
    except BadSignature:  # SignatureExpired included
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("n"), str):
        return None
    agent = Agent.get_or_none(Agent.id == data["a"])
    if agent is None or not agent.active or agent.token_version != data.get("v"):
        return None
    return agent, data["n"]


def require_admin():
    """The blueprint's before_request: sign-in (GET: redirect to it), the admin role (403), CSRF on POST (403)."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    found = _session()
    if found is None:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("admin.signin"))
        raise HttpError(403, "unauthorized", "Sign in to the admin console first.")
    agent, nonce = found
    if not agent.is_admin:
        raise HttpError(403, "admin_required", "Only an admin can use the admin console.")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = request.form.get(CSRF_FIELD, "")
        if not hmac.compare_digest(sent.encode("utf-8", "surrogatepass"), nonce.encode()):
            raise HttpError(403, "csrf_failed", "The form is stale or came from another site; reload the page.")
    g.admin, g.csrf_token = agent, nonce
    return None


def current_admin() -> Agent:
    return g.admin
