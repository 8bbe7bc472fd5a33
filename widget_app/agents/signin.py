"""Checking an email and password under the brute-force limits: the widget's sign-in and the install page's."""
from functools import lru_cache

from werkzeug.security import check_password_hash, generate_password_hash

from widget_app.agents import limits
from widget_app.agents.accounts import find_agent, normalise_email
from widget_app.core.blocking import run_blocking
from widget_app.core.clock import isoformat
from widget_app.core.errors import DomainError
from widget_app.models import Agent

MAX_EMAIL, MAX_PASSWORD = 254, 1024


class TooManyAttempts(DomainError):
    """429: this email or address must wait; ``retry_at`` says until when."""

    def __init__(self, retry_at):
        super().__init__("too_many_attempts", "Too many sign-in attempts. Try again later.", retry_at=isoformat(retry_at))
        self.retry_at = retry_at


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A real hash to check unknown emails against, so they take as long as known ones."""
    return generate_password_hash("no agent has this password")


def authenticate(email: str, password: str, address: str) -> Agent:
    """The active agent these credentials belong to; 400 for malformed input, 401 wrong, 429 over the limits."""
    email = normalise_email(email)
    if not email or len(email) > MAX_EMAIL:
        raise DomainError("invalid_field", "The field 'email' must be an email address.", field="email")
    if len(password) > MAX_PASSWORD:
        raise DomainError("invalid_field", "The field 'password' is too long.", field="password")
    attempt = limits.Attempt(email, address)
    retry_at = attempt.blocked_until()
    if retry_at is not None:
        attempt.discard()
        raise TooManyAttempts(retry_at)
    agent = find_agent(email)
    # scrypt off gevent's event loop (core/blocking): other sockets and requests go on meanwhile
    matches = run_blocking(check_password_hash, agent.password_hash if agent else run_blocking(_dummy_hash), password)
    if agent is None or not matches or not agent.active:
        raise DomainError("invalid_credentials", "The email or password is wrong.")
    attempt.succeeded()
    return agent
