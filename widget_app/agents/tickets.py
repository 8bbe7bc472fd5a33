"""Socket tickets: what ``/ws`` takes instead of the agent's token, so no bearer token is ever in a URL.

A ticket names the agent and their token version, lives ``TICKET_SECONDS``, and is redeemed once:
its nonce is recorded like a webhook's idempotency key, so every process (and a second worker on
PostgreSQL) agrees it is spent. A URL that reaches an access log then opens nothing.
"""
import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from widget_app.models import Agent, WebhookEvent

TICKET_SECONDS = 10
TICKET_SALT = "socket-ticket"


def _serializer() -> URLSafeTimedSerializer:
    """Signed with SECRET_KEY under a salt of its own: a ticket is never a token, nor a token a ticket."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TICKET_SALT)


def issue_ticket(agent: Agent) -> str:
    """A single-use ticket for one socket of this agent, valid TICKET_SECONDS."""
    return _serializer().dumps({"a": agent.id, "v": agent.token_version, "n": secrets.token_urlsafe(16)})


def redeem_ticket(ticket: str | None) -> tuple[Agent, int] | None:
    """The agent and token version a fresh, unspent ticket names (spending it), or None."""
    if not ticket or len(ticket) > 512:
        return None
    try:
        data = _serializer().loads(ticket, max_age=TICKET_SECONDS)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or not isinstance(data.get("n"), str):
        return None
    agent = Agent.get_or_none(Agent.id == data["a"])
    if agent is None or not agent.active or agent.token_version != data.get("v"):
        return None
    if not WebhookEvent.record_once(f"socket-ticket:{data['n']}", "socket-ticket"):
        return None  # spent: a ticket opens one socket
    return agent, agent.token_version


def still_signed_in(agent_id: int, token_version: int) -> bool:
    """False once the agent signed out everywhere or was disabled (the version moved on)."""
    agent = Agent.get_or_none(Agent.id == agent_id)
    return agent is not None and agent.active and agent.token_version == token_version
