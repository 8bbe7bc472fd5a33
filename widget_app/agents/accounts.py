"""Agent accounts: creating, finding, enabling and disabling them, and the signed tokens they carry.

A token names the agent and their ``token_version``; bumping the version (sign-out, disable)
revokes every token and session cookie at once.
"""
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from peewee import fn
from werkzeug.security import generate_password_hash

from widget_app.models import ADMIN, AGENT, Agent, db

DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD = "demo@example.com", "Demo Agent", "demo"
TOKEN_MAX_AGE = 12 * 3600
TOKEN_SALT, COOKIE_SALT = "agent-token", "session-cookie"


class AgentError(ValueError):
    """An agent cannot be created or changed as asked; the message says why."""


def normalise_email(email: str) -> str:
    """Emails are compared without case or surrounding spaces."""
    return email.strip().lower()


def find_agent(email: str) -> Agent | None:
    """The agent with this email, whatever its case."""
    return Agent.get_or_none(fn.LOWER(Agent.email) == normalise_email(email))


def create_agent(email: str, name: str, password: str, admin: bool = False) -> Agent:
    """Create an agent with a scrypt password hash (the first of a fresh install is the admin); raises AgentError."""
    email, name = normalise_email(email), name.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise AgentError(f"'{email}' is not an email address.")
    if not name or len(name) > 255:
        raise AgentError("The name must be 1 to 255 characters.")
    if not password:
        raise AgentError("The password must not be empty.")
    with db.atomic():
        if find_agent(email) is not None:
            raise AgentError(f"An agent with the email {email} already exists.")
        role = ADMIN if admin or not Agent.select().exists() else AGENT
        return Agent.create(email=email, name=name, password_hash=generate_password_hash(password), role=role)


def ensure_demo_agent() -> Agent:
    """Demo mode's agent (demo@example.com / demo), created once and re-enabled if disabled."""
    agent = find_agent(DEMO_EMAIL)
    if agent is None:
        return create_agent(DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD)
    if not agent.active:
        Agent.update(active=True).where(Agent.id == agent.id).execute()
        agent = Agent.get_by_id(agent.id)
    return agent


def set_active(email: str, active: bool) -> Agent:
    """Enable or disable; disabling also bumps the token version, so every token and cookie dies now."""
    with db.atomic():
        agent = find_agent(email)
        if agent is None:
            raise AgentError(f"No agent has the email {normalise_email(email)}.")
        changes = {Agent.active: active}
        if not active:
            changes.update({Agent.available: False, Agent.token_version: Agent.token_version + 1})
        Agent.update(changes).where(Agent.id == agent.id).execute()
        return agent


def sign_out_everywhere(agent: Agent):
    """The version bump kills every token and the cookie at once; the agent stops taking calls."""
    Agent.update(token_version=Agent.token_version + 1, available=False).where(Agent.id == agent.id).execute()


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def sign_agent(agent: Agent, salt: str = TOKEN_SALT) -> str:
    """A signed value naming the agent and their token version (a token, or with COOKIE_SALT a cookie)."""
    return _serializer(salt).dumps({"a": agent.id, "v": agent.token_version})


def issue_token(agent: Agent) -> str:
    """The Bearer token the widget keeps in memory."""
    return sign_agent(agent, TOKEN_SALT)


def agent_from_signed(value: str | None, salt: str) -> Agent | None:
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
    return agent_from_signed(token, TOKEN_SALT)
