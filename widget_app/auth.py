"""Agents: sign-in inside the HubSpot iframe, tokens, and the guard on every /api/* route."""
from functools import wraps

from flask import Blueprint, current_app, g, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from .errors import ApiError
from .models import Agent

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
TOKEN_MAX_AGE = 12 * 3600
PUBLIC_API_ENDPOINTS = {"auth.login", "auth.resume"}  # every other /api/* route needs a token


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="agent-token")


def issue_token(agent: Agent) -> str:
    """A signed token naming the agent and their token version (bumping it revokes the token)."""
    return _serializer().dumps({"a": agent.id, "v": agent.token_version})


def agent_from_token(token: str | None) -> Agent | None:
    """The active agent a token belongs to, or None for a missing, expired, tampered or revoked one."""
    if not token:
        return None
    try:
        data = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    agent = Agent.get_or_none(Agent.id == data.get("a"))
    if agent is None or not agent.active or agent.token_version != data.get("v"):
        return None
    return agent


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def login_required(view):
    """Guard a view: 401 unauthorized (revealing nothing) unless a valid Bearer token is sent."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        agent = agent_from_token(bearer_token())
        if agent is None:
            raise ApiError(401, "unauthorized", "Sign in to continue.")
        g.agent = agent
        return view(*args, **kwargs)
    wrapper.login_required = True
    return wrapper


def current_agent() -> Agent:
    return g.agent
