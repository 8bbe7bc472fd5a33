"""Agents: sign-in inside the HubSpot iframe, tokens, and the guard on every /api/* route (CONTRACT §4).

The widget keeps its token in memory (the cross-site iframe gets no storage); a partitioned (CHIPS)
cookie, readable only by /api/auth, lets a reloaded widget ask for a fresh token.
"""
from functools import lru_cache, wraps

from flask import Blueprint, current_app, g, jsonify, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.security import check_password_hash, generate_password_hash

from widget_app.agents import limits as login_limits
from widget_app.agents.service import agents_cli, create_agent, find_agent, normalise_email  # noqa: F401 (create_agent is API)
from widget_app.core.clock import isoformat, utcnow
from widget_app.web.errors import ApiError
from widget_app.web.jsonbody import json_body
from widget_app.models import Agent, db

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
TOKEN_MAX_AGE = 12 * 3600
PUBLIC_API_ENDPOINTS = {"auth.login", "auth.resume"}  # every other /api/* route needs a token
SESSION_COOKIE, COOKIE_PATH = "wa_session", "/api/auth"
TOKEN_SALT, COOKIE_SALT = "agent-token", "session-cookie"
HUBSPOT_ID_FIELDS = {"portalId": "hubspot_portal_id", "userId": "hubspot_user_id", "ownerId": "hubspot_owner_id"}


def _serializer(salt: str = TOKEN_SALT) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def issue_token(agent: Agent) -> str:
    """A signed token naming the agent and their token version (bumping it revokes the token)."""
    return _serializer().dumps({"a": agent.id, "v": agent.token_version})


def _agent_from_signed(value: str | None, salt: str) -> Agent | None:
    """The active agent a signed value names, or None if missing, expired, tampered or revoked."""
    if not value:
        return None
    try:
        data = _serializer(salt).loads(value, max_age=TOKEN_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int):
        return None
    agent = Agent.get_or_none(Agent.id == data["a"])
    if agent is None or not agent.active or agent.token_version != data.get("v"):
        return None
    return agent


def agent_from_token(token: str | None) -> Agent | None:
    """The active agent a token belongs to, or None for a missing, expired, tampered or revoked one."""
    return _agent_from_signed(token, TOKEN_SALT)


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


def _require_agent() -> Agent:
    """The request's agent from its Bearer token (once per request), else 401 revealing nothing."""
    if g.get("agent") is None:
        agent = agent_from_token(bearer_token())
        if agent is None:
            raise ApiError(401, "unauthorized", "Sign in to continue.")
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


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real hash to check unknown emails against, so they take as long as known ones."""
    return generate_password_hash("no agent has this password")


def _set_session_cookie(response, agent: Agent):
    """CHIPS: the only cookie a cross-site iframe keeps; scoped to /api/auth and never readable by JS."""
    value = _serializer(COOKIE_SALT).dumps({"a": agent.id, "v": agent.token_version})
    response.set_cookie(SESSION_COOKIE, value, max_age=TOKEN_MAX_AGE, path=COOKIE_PATH, secure=True,
                        httponly=True, samesite="None", partitioned=True)


def _clear_session_cookie(response):
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=True, httponly=True,
                           samesite="None", partitioned=True)


def _too_many_attempts(retry_at):
    """429 with when to try again, in the body (ISO UTC) and as Retry-After (seconds)."""
    response, status = ApiError(429, "too_many_attempts", "Too many sign-in attempts. Try again later.",
                                retry_at=isoformat(retry_at)).to_response()
    response.headers["Retry-After"] = str(max(1, int((retry_at - utcnow()).total_seconds() + 0.999)))
    return response, status


@bp.post("/login")
def login():
    """Check email and password under the brute-force limits; answer a token and set the session cookie."""
    body = json_body(email=str, password=str)
    email, password = normalise_email(body["email"]), body["password"]
    if not email or len(email) > 254:
        raise ApiError(400, "invalid_field", "The field 'email' must be an email address.", field="email")
    if len(password) > 1024:
        raise ApiError(400, "invalid_field", "The field 'password' is too long.", field="password")
    attempt = login_limits.Attempt(email, request.remote_addr or "unknown")
    retry_at = attempt.blocked_until()
    if retry_at is not None:
        attempt.discard()
        return _too_many_attempts(retry_at)
    agent = find_agent(email)
    matches = check_password_hash(agent.password_hash if agent else _dummy_hash(), password)
    if agent is None or not matches or not agent.active:
        raise ApiError(401, "invalid_credentials", "The email or password is wrong.")
    attempt.succeeded()
    response = jsonify(token=issue_token(agent), agent=agent.to_dict())
    _set_session_cookie(response, agent)
    return response


@bp.post("/resume")
def resume():
    """A reloaded widget trades its partitioned session cookie for a fresh token."""
    agent = _agent_from_signed(request.cookies.get(SESSION_COOKIE), COOKIE_SALT)
    if agent is None:
        response, status = ApiError(401, "unauthorized", "Sign in to continue.").to_response()
        if SESSION_COOKIE in request.cookies:
            _clear_session_cookie(response)
        return response, status
    return jsonify(token=issue_token(agent), agent=agent.to_dict())


@bp.post("/logout")
@login_required
def logout():
    """Sign out everywhere: the version bump kills every token and the cookie at once."""
    Agent.update(token_version=Agent.token_version + 1, available=False).where(
        Agent.id == current_agent().id).execute()
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
        raise ApiError(400, "invalid_field", f"The field '{name}' must be a positive id.", field=name)
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


def init_app(app):
    """The central /api guard and `flask agents`."""
    app.before_request(guard_api)
    app.cli.add_command(agents_cli)
