"""Sign-in inside the HubSpot iframe (CONTRACT §4): login, resume, logout, me, and the HubSpot link.

A partitioned (CHIPS) cookie, readable only by /api/auth, lets a reloaded widget ask for a fresh
token: it is the only cookie a cross-site iframe keeps.
"""
from functools import lru_cache

from flask import Blueprint, current_app, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

from widget_app.agents import limits as login_limits
from widget_app.agents.accounts import (
    COOKIE_SALT,
    TOKEN_MAX_AGE,
    agent_from_signed,
    find_agent,
    issue_token,
    normalise_email,
    sign_agent,
    sign_out_everywhere,
)
from widget_app.core.blocking import run_blocking
from widget_app.core.clock import isoformat, utcnow
from widget_app.core.errors import DomainError
from widget_app.models import Agent, db
from widget_app.web.auth import current_agent, login_required
from widget_app.web.errors import error_response
from widget_app.web.jsonbody import json_body

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
SESSION_COOKIE, COOKIE_PATH = "wa_session", "/api/auth"
HUBSPOT_ID_FIELDS = {"portalId": "hubspot_portal_id", "userId": "hubspot_user_id", "ownerId": "hubspot_owner_id"}


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real hash to check unknown emails against, so they take as long as known ones."""
    return generate_password_hash("no agent has this password")


def _set_session_cookie(response, agent: Agent):
    """CHIPS: scoped to /api/auth and never readable by JS."""
    response.set_cookie(SESSION_COOKIE, sign_agent(agent, COOKIE_SALT), max_age=TOKEN_MAX_AGE, path=COOKIE_PATH,
                        secure=True, httponly=True, samesite="None", partitioned=True)


def _clear_session_cookie(response):
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=True, httponly=True,
                           samesite="None", partitioned=True)


def _too_many_attempts(retry_at):
    """429 with when to try again, in the body (ISO UTC) and as Retry-After (seconds)."""
    response, status = error_response(DomainError("too_many_attempts", "Too many sign-in attempts. Try again later.",
                                                  retry_at=isoformat(retry_at)))
    response.headers["Retry-After"] = str(max(1, int((retry_at - utcnow()).total_seconds() + 0.999)))
    return response, status


@bp.post("/login")
def login():
    """Check email and password under the brute-force limits; answer a token and set the session cookie."""
    body = json_body(email=str, password=str)
    email, password = normalise_email(body["email"]), body["password"]
    if not email or len(email) > 254:
        raise DomainError("invalid_field", "The field 'email' must be an email address.", field="email")
    if len(password) > 1024:
        raise DomainError("invalid_field", "The field 'password' is too long.", field="password")
    attempt = login_limits.Attempt(email, request.remote_addr or "unknown")
    retry_at = attempt.blocked_until()
    if retry_at is not None:
        attempt.discard()
        return _too_many_attempts(retry_at)
    agent = find_agent(email)
    matches = run_blocking(check_password_hash, agent.password_hash if agent else run_blocking(_dummy_hash), password)
    if agent is None or not matches or not agent.active:
        raise DomainError("invalid_credentials", "The email or password is wrong.")
    attempt.succeeded()
    response = jsonify(token=issue_token(agent), agent=agent.to_dict())
    _set_session_cookie(response, agent)
    return response


@bp.post("/resume")
def resume():
    """A reloaded widget trades its partitioned session cookie for a fresh token."""
    agent = agent_from_signed(request.cookies.get(SESSION_COOKIE), COOKIE_SALT)
    if agent is None:
        response, status = error_response(DomainError("unauthorized", "Sign in to continue."))
        if SESSION_COOKIE in request.cookies:
            _clear_session_cookie(response)
        return response, status
    return jsonify(token=issue_token(agent), agent=agent.to_dict())


@bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere: the version bump kills every token and the cookie at once."""
    sign_out_everywhere(current_agent())
    response = current_app.response_class(status=204)
    _clear_session_cookie(response)
    return response


@bp.get("/me")
@login_required
def me():
    """Who the token belongs to (the widget's check after a resume)."""
    return jsonify(agent=current_agent().to_dict())


def _hubspot_id(value: int, name: str) -> str:
    """HubSpot ids are positive 64-bit numbers; we keep them as strings."""
    if not 0 < value < 2 ** 63:
        raise DomainError("invalid_field", f"The field '{name}' must be a positive id.", field=name)
    return str(value)


@bp.post("/hubspot-context")
@login_required
def hubspot_context():
    """Link the agent to the HubSpot user the SDK's onReady reported; inbound routing relies on it."""
    body = json_body(**{name: int for name in HUBSPOT_ID_FIELDS})
    ids = {column: _hubspot_id(body[name], name) for name, column in HUBSPOT_ID_FIELDS.items()}
    agent = current_agent()
    with db.atomic():
        # One HubSpot owner routes to one agent: whoever signed in from that HubSpot user last.
        Agent.update(hubspot_portal_id=None, hubspot_user_id=None, hubspot_owner_id=None).where(
            (Agent.id != agent.id) & (Agent.hubspot_portal_id == ids["hubspot_portal_id"])
            & (Agent.hubspot_owner_id == ids["hubspot_owner_id"])).execute()
        Agent.update(**ids).where(Agent.id == agent.id).execute()
    return jsonify(agent=Agent.get_by_id(agent.id).to_dict())
