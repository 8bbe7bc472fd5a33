"""Brute-force limits on sign-in, kept in the database so every gunicorn worker sees the same counts."""
from datetime import timedelta

from widget_app.core.clock import utcnow
from widget_app.models import LoginAttempt

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
KEEP = timedelta(days=7)  # attempts older than this are pruned


class Attempt:
    """One sign-in attempt, recorded (as a failure) before the password is checked.

    Recording first means concurrent attempts in other workers count each other, so a burst of
    parallel guesses cannot all slip under the limit while the password hashes are computed.
    """

    def __init__(self, email: str, ip: str):
        now = utcnow()
        LoginAttempt.delete().where(LoginAttempt.attempted_at < now - KEEP).execute()
        self.row = LoginAttempt.create(email=email, ip=ip, succeeded=False, attempted_at=now)
        self.now = now

    def blocked_until(self):
        """When this attempt's email or address may try again, or None if it may try now."""
        since = self.now - WINDOW
        earlier = (LoginAttempt.attempted_at > since) & (LoginAttempt.id < self.row.id) & ~LoginAttempt.succeeded
        last_success = (LoginAttempt.select(LoginAttempt.id)
                        .where((LoginAttempt.email == self.row.email) & LoginAttempt.succeeded)
                        .order_by(LoginAttempt.id.desc()).limit(1).scalar()) or 0
        # The owner of an email proves themselves by signing in; an address never does.
        by_email = earlier & (LoginAttempt.email == self.row.email) & (LoginAttempt.id > last_success)
        by_ip = earlier & (LoginAttempt.ip == self.row.ip)
        until = [_free_at(condition) for condition in (by_email, by_ip)]
        until = [at for at in until if at is not None]
        return max(until) if until else None

    def discard(self):
        """A blocked attempt checks no password, so it does not extend the block."""
        self.row.delete_instance()

    def succeeded(self):
        LoginAttempt.update(succeeded=True).where(LoginAttempt.id == self.row.id).execute()


def _free_at(condition):
    """With MAX_FAILURES failures in the window, one may try again when the MAX_FAILURES-th newest ages out."""
    newest = [row.attempted_at for row in LoginAttempt.select(LoginAttempt.attempted_at).where(condition)
              .order_by(LoginAttempt.attempted_at.desc()).limit(MAX_FAILURES)]
    return newest[-1] + WINDOW if len(newest) == MAX_FAILURES else None
