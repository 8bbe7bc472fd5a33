"""Brute-force limits on sign-in, kept in the database so every gunicorn worker sees the same counts.

Guessing is blocked per (account, address) and per address. Per account it is only slowed down
(a delay that doubles with every failure from anywhere), and not at all from an address the agent
has signed in from: failures from strangers never lock the real agent out. An admin clears an
account's failures with ``flask agents unlock``.
"""
from datetime import timedelta

from peewee import fn

from widget_app.core.clock import utcnow
from widget_app.models import LoginAttempt

MAX_FAILURES = 5  # per (account, address) in WINDOW: then that pair waits for the window
ADDRESS_MAX_FAILURES = 20  # per address, whatever the accounts: one address guessing many of them
WINDOW = timedelta(minutes=15)
ACCOUNT_SLOW_AFTER = 5  # failures of one account from anywhere before each next try waits
ACCOUNT_DELAY_BASE, ACCOUNT_DELAY_CAP = timedelta(seconds=1), timedelta(seconds=60)
KEEP = timedelta(days=7)  # attempts older than this are pruned (and addresses forgotten)


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
        """When this attempt's account and address may try again, or None if they may try now."""
        earlier = ((LoginAttempt.attempted_at > self.now - WINDOW) & (LoginAttempt.id < self.row.id)
                   & ~LoginAttempt.succeeded)
        mine = LoginAttempt.email == self.row.email
        last_success = (LoginAttempt.select(LoginAttempt.id).where(mine & LoginAttempt.succeeded)
                        .order_by(LoginAttempt.id.desc()).limit(1).scalar()) or 0
        # The owner of an account proves themselves by signing in; an address never does.
        for_account = earlier & mine & (LoginAttempt.id > last_success)
        until = [_free_at(for_account & (LoginAttempt.ip == self.row.ip), MAX_FAILURES),
                 _free_at(earlier & (LoginAttempt.ip == self.row.ip), ADDRESS_MAX_FAILURES)]
        if not self._known_address():
            until.append(self._slowed_until(for_account))
        until = [at for at in until if at is not None and at > self.now]
        return max(until) if until else None

    def _known_address(self) -> bool:
        """The agent has signed in from this address before (within KEEP): strangers' failures don't slow it."""
        return LoginAttempt.select().where((LoginAttempt.email == self.row.email) & (LoginAttempt.ip == self.row.ip)
                                           & LoginAttempt.succeeded).exists()

    def _slowed_until(self, condition):
        """After ACCOUNT_SLOW_AFTER failures, the next try waits a delay doubling per failure (capped)."""
        count, newest = (LoginAttempt.select(fn.COUNT(LoginAttempt.id), fn.MAX(LoginAttempt.attempted_at))
                         .where(condition).scalar(as_tuple=True))
        if count < ACCOUNT_SLOW_AFTER:
            return None
        delay = min(ACCOUNT_DELAY_BASE * 2 ** (count - ACCOUNT_SLOW_AFTER), ACCOUNT_DELAY_CAP)
        return LoginAttempt.attempted_at.python_value(newest) + delay

    def discard(self):
        """A blocked attempt checks no password, so it does not extend the block."""
        self.row.delete_instance()

    def succeeded(self):
        LoginAttempt.update(succeeded=True).where(LoginAttempt.id == self.row.id).execute()


def _free_at(condition, limit: int):
    """With ``limit`` failures in the window, one may try again when the ``limit``-th newest ages out."""
    newest = [row.attempted_at for row in LoginAttempt.select(LoginAttempt.attempted_at).where(condition)
              .order_by(LoginAttempt.attempted_at.desc()).limit(limit)]
    return newest[-1] + WINDOW if len(newest) == limit else None


def unlock(email: str) -> int:
    """Forget an account's failed attempts (every address): an admin's answer to a locked-out agent."""
    return LoginAttempt.delete().where((LoginAttempt.email == email) & ~LoginAttempt.succeeded).execute()
