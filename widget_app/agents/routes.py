"""Sign-in inside the HubSpot iframe (CONTRACT §4): login, resume, logout, me, and the HubSpot link.

A partitioned (CHIPS) cookie, readable only by /api/auth, lets a reloaded widget ask for a fresh
token: it is the only cookie a cross-site iframe keeps.
"""
from flask import Blueprint, current_app, jsonify, request

from widget_app.agents.accounts import (
    COOKIE_SALT,
    TOKEN_MAX_AGE,
    agent_from_signed,
    issue_token,
    sign_agent,
    sign_out_everywhere,
)
from widget_app.agents.signin import TooManyAttempts, authenticate
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.ids import parse_id
from widget_app.hubspot import owners
from widget_app.models import Agent
from widget_app.web.auth import current_agent, login_required
from widget_app.web.errors import error_response
from widget_app.web.jsonbody import json_body

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
SESSION_COOKIE, COOKIE_PATH = "wa_session", "/api/auth"


def _set_session_cookie(response, agent: Agent):
    """CHIPS: scoped to /api/auth and never readable by JS."""
    response.set_cookie(SESSION_COOKIE, sign_agent(agent, COOKIE_SALT), max_age=TOKEN_MAX_AGE, path=COOKIE_PATH,
                        secure=True, httponly=True, samesite="None", partitioned=True)


def _clear_session_cookie(response):
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=True, httponly=True,
                           samesite="None", partitioned=True)


def _too_many_attempts(refusal: TooManyAttempts):
    """429 with when to try again, in the body (ISO UTC) and as Retry-After (seconds)."""
    response, status = error_response(refusal)
    response.headers["Retry-After"] = str(max(1, int((refusal.retry_at - utcnow()).total_seconds() + 0.999)))
    return response, status


@bp.post("/login")
def login():
    """Check email and password under the brute-force limits; answer a token and set the session cookie."""
    body = json_body(email=str, password=str)
    try:
        agent = authenticate(body["email"], body["password"], request.remote_addr or "unknown")
    except TooManyAttempts as refusal:
        return _too_many_attempts(refusal)
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


@bp.post("/hubspot-context")
@login_required
def hubspot_context():
    """Link the agent to the HubSpot portal and owner the SDK's onReady reported, once HubSpot confirms them."""
    body = json_body(portalId=object, userId=object, ownerId=object)
    ids = {name: parse_id(body[name], name) for name in ("portalId", "userId", "ownerId")}  # userId: checked only
    return jsonify(agent=owners.link(current_agent(), ids["portalId"], ids["ownerId"]).to_dict())
