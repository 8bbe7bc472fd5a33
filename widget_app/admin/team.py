"""The agents section's services: the team as an admin sees it, and the changes only an admin makes.

Accounts themselves (create, enable/disable, tokens) are `agents.accounts`, the same functions
`flask agents` calls; sign-in limits are `agents.limits`; HubSpot owners are `hubspot.owners`.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from peewee import fn
from werkzeug.security import generate_password_hash

from widget_app.agents import limits
from widget_app.agents.accounts import AgentError, create_agent, set_active
from widget_app.calls.inbound import ONLINE_SECONDS
from widget_app.core.blocking import run_blocking
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.ids import parse_id
from widget_app.hubspot.owners import assign_owner
from widget_app.models import ADMIN, AGENT, Agent, LoginAttempt, db

INVITE_SALT = "admin-invite"
INVITE_MAX_AGE = 72 * 3600  # a set-password link works for three days, once
ROLES = (ADMIN, AGENT)


@dataclass
class TeamMember:
    agent: Agent
    online: bool  # a socket heartbeat younger than calls.inbound.ONLINE_SECONDS: the widget is open now
    failed_attempts: int  # failed sign-ins in the limits' window (unlock clears them)


def team() -> list[TeamMember]:
    """Every agent with whether they are signed in now and their recent failed sign-ins (two queries)."""
    now = utcnow()
    fresh = now - timedelta(seconds=ONLINE_SECONDS)
    failures = dict(LoginAttempt.select(LoginAttempt.email, fn.COUNT(LoginAttempt.id))
                    .where(~LoginAttempt.succeeded & (LoginAttempt.attempted_at > now - limits.WINDOW))
                    .group_by(LoginAttempt.email).tuples())
    return [TeamMember(agent, bool(agent.active and agent.last_seen_at and agent.last_seen_at >= fresh),
                       failures.get(agent.email, 0))
            for agent in Agent.select().order_by(Agent.name, Agent.id)]


def agent_by_id(agent_id: int) -> Agent:
    agent = Agent.get_or_none(Agent.id == agent_id)
    if agent is None:
        raise DomainError("not_found", "No such agent.")
    return agent


def _refuse(exc: AgentError) -> DomainError:
    return DomainError("invalid_agent", str(exc))


def invite(email: str, name: str, role: str) -> Agent:
    """A new agent without a usable password (a random one nobody knows) until they follow their link."""
    if role not in ROLES:
        raise DomainError("invalid_field", "The role must be admin or agent.", field="role")
    try:
        return create_agent(email, name, secrets.token_urlsafe(32), admin=role == ADMIN)
    except AgentError as exc:
        raise _refuse(exc) from None


def _last_admin(agent: Agent) -> bool:
    others = Agent.select().where(Agent.role == ADMIN, Agent.active == True, Agent.id != agent.id)
    return agent.is_admin and agent.active and not others.exists()


def set_enabled(agent: Agent, enabled: bool) -> Agent:
    """Disable (every token and cookie dies at once) or enable; the last active admin stays."""
    if not enabled and _last_admin(agent):
        raise DomainError("last_admin", "This is the only active admin: make another agent an admin first.")
    try:
        set_active(agent.email, enabled)
    except AgentError as exc:
        raise _refuse(exc) from None
    return Agent.get_by_id(agent.id)


def unlock(agent: Agent) -> int:
    """Forget the agent's failed sign-ins (as `flask agents unlock`); how many were forgotten."""
    return limits.unlock(agent.email)


def set_role(agent: Agent, role: str) -> Agent:
    """Make an agent an admin or a plain agent; the last active admin cannot step down."""
    if role not in ROLES:
        raise DomainError("invalid_field", "The role must be admin or agent.", field="role")
    if role != ADMIN and _last_admin(agent):
        raise DomainError("last_admin", "This is the only active admin: make another agent an admin first.")
    Agent.update(role=role).where(Agent.id == agent.id).execute()
    return Agent.get_by_id(agent.id)


def set_owner(agent: Agent, owner: str) -> Agent:
    """Link the agent to a HubSpot owner an admin vouches for (as `flask agents set-owner`); empty clears it."""
    owner = owner.strip()
    if not owner:
        Agent.update(hubspot_owner_id=None, hubspot_user_id=None).where(Agent.id == agent.id).execute()
    else:
        assign_owner(agent, hubspot_owner_id=parse_id(owner, "owner"), hubspot_user_id=None)
    return Agent.get_by_id(agent.id)


# ---- set-password links ----------------------------------------------------------------------------

def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=INVITE_SALT)


def _fingerprint(agent: Agent) -> str:
    """Changes with the password: a link dies once used (or once the password changed another way)."""
    return hashlib.sha256(f"{agent.password_hash}:{agent.token_version}".encode()).hexdigest()[:24]


def invite_token(agent: Agent) -> str:
    """A signed, expiring, single-use token that lets this agent choose a password."""
    return _serializer().dumps({"a": agent.id, "f": _fingerprint(agent)})


def invite_expires_at(now: datetime | None = None) -> datetime:
    return (now or utcnow()) + timedelta(seconds=INVITE_MAX_AGE)


def agent_for_invite(token: str) -> Agent:
    """The agent a live link belongs to; 403 link_expired for an expired, used, tampered or foreign one."""
    expired = DomainError("link_expired", "This set-password link is expired or was already used; ask your admin for a new one.")
    try:
        data = _serializer().loads(token, max_age=INVITE_MAX_AGE)
    except BadSignature:  # SignatureExpired included
        raise expired from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("f"), str):
        raise expired
    agent = Agent.get_or_none(Agent.id == data["a"])
    if agent is None or not agent.active or not secrets.compare_digest(_fingerprint(agent), data["f"]):
        raise expired
    return agent


def redeem_invite(token: str, password: str) -> Agent:
    """Set the password a link allows, once: the link (and every older token of the agent) dies with it."""
    password_hash = run_blocking(generate_password_hash, password)  # scrypt off the event loop, outside the lock
    with db.atomic():
        agent = agent_for_invite(token)
        changed = (Agent.update(password_hash=password_hash, token_version=Agent.token_version + 1)
                   .where((Agent.id == agent.id) & (Agent.password_hash == agent.password_hash)).execute())
        if changed != 1:  # another request used the same link a moment ago
            raise DomainError("link_expired", "This set-password link was already used.")
        limits.unlock(agent.email)
    return Agent.get_by_id(agent.id)
