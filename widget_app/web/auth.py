"""Who is asking: the Bearer-token guard every /api/* route passes, and the view decorator that says so.

The widget keeps its token in memory (the cross-site iframe gets no storage); see agents.routes for
how it gets one.
"""
from functools import wraps

from flask import g, request

from widget_app.agents.accounts import agent_from_token
from widget_app.models import Agent
from widget_app.web.errors import HttpError

PUBLIC_API_ENDPOINTS = {"auth.login", "auth.resume"}  # every other /api/* route needs a token


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _require_agent() -> Agent:
    """The request's agent from its Bearer token (once per request), else 401 revealing nothing."""
    if g.get("agent") is None:
        agent = agent_from_token(bearer_token())
        if agent is None:
            raise HttpError(401, "unauthorized", "Sign in to continue.")
        g.agent = agent
    return g.agent


def login_required(view):
    """Guard a view: 401 unauthorized (revealing nothing) unless a valid Bearer token is sent."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        _require_agent()
        return view(*args, **kwargs)
    wrapper.login_required = True
    return wrapper


def current_agent() -> Agent:
    return g.agent


def guard_api():
    """Every /api/* request but sign-in needs a token, checked here so a new route cannot forget it."""
    if request.path.startswith("/api/") and request.endpoint not in PUBLIC_API_ENDPOINTS:
        _require_agent()


def init_app(app):
    app.before_request(guard_api)
