"""Meta's call-permission rules as pure functions of a contact's history and ``now``.

Nothing here reads the clock or the database: ``permission_store`` loads a ``History``, passes
``clock.utcnow()`` and stores what the transitions return, so tests can replay any sequence.
Every answer says why (``reason``) and when it may change (``changes_at``).
"""
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

DAY, WEEK = timedelta(hours=24), timedelta(days=7)
REQUEST_TTL = WEEK  # a request nobody answers expires 7 days after it was sent
DECLINE_COOLDOWN = DAY  # after a decline, no new request for 24 h
META_MAX_WINDOW_HOURS = 7 * 24  # Meta's temporary permission lasts 7 days; we never allow longer
META_WINDOW = timedelta(hours=META_MAX_WINDOW_HOURS)


@dataclass(frozen=True)
class Limits:
    """The configurable numbers (CONTRACT §2), read from app config by ``from_config``."""
    window_hours: int = 72
    requests_per_day: int = 1
    requests_per_week: int = 2
    missed_before_revoke: int = 4
    max_connected_per_day: int = 5

    def __post_init__(self):
        for name, value in vars(self).items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"permission limit {name} must be a whole number of at least 1, got {value!r}")

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(window_hours=int(config["PERMISSION_WINDOW_HOURS"]),
                   requests_per_day=int(config["PERMISSION_REQUESTS_PER_DAY"]),
                   requests_per_week=int(config["PERMISSION_REQUESTS_PER_WEEK"]),
                   missed_before_revoke=int(config["MISSED_CALLS_BEFORE_REVOKE"]),
                   max_connected_per_day=int(config["MAX_CONNECTED_CALLS_PER_DAY"]))

    @property
    def window(self) -> timedelta:
        return timedelta(hours=min(self.window_hours, META_MAX_WINDOW_HOURS))


@dataclass(frozen=True)
class Grant:
    """A contact's standing as stored on its ``Permission`` row (status before time is applied)."""
    status: str = "none"  # none|pending|granted|denied|expired|revoked
    granted_at: datetime | None = None
    expires_at: datetime | None = None
    permanent: bool = False
    consecutive_missed: int = 0
    declined_at: datetime | None = None
    last_connected_at: datetime | None = None
    revoked_reason: str | None = None
    source: str | None = None  # where the grant came from: request | callback | profile
    note: str | None = None  # the grant's reason in words ("The contact called us at ...")


@dataclass(frozen=True)
class History:
    """What the rules look at: the grant, the requests that count, the connected business calls."""
    grant: Grant = field(default_factory=Grant)
    requests: tuple[datetime, ...] = ()  # send times of requests Twilio accepted (failed ones never count)
    connected_calls: tuple[datetime, ...] = ()  # answer times of connected business-initiated calls
    reserved_calls: tuple[datetime, ...] = ()  # start times of business calls being placed: each may connect


@dataclass(frozen=True)
class Reply:
    """The user's answer to a permission request: Twilio's VOICE_CALL_REQUEST button, or Meta's native reply."""
    accepted: bool
    permanent: bool = False
    expires_at: datetime | None = None  # Meta's expiration_timestamp, when the reply carries one
    source: str = "twilio_button"  # twilio_button | meta
    automatic: bool = False  # Meta's response_source "automatic": WhatsApp answered, not the user
    context_id: str | None = None  # Meta's context.id: our request's message id, or a call id (wacid…)

    @property
    def is_revocation(self) -> bool:
        """WhatsApp withdrew the permission itself (e.g. after unanswered calls): not the user's decline."""
        return not self.accepted and self.automatic

    @property
    def is_callback_grant(self) -> bool:
        """The user called us and WhatsApp granted a callback (Meta's callback_permission_status)."""
        return self.accepted and self.automatic and (self.context_id or "").startswith("wacid")


@dataclass(frozen=True)
class Verdict:
    """Yes or no, a ``code`` when no, a sentence for the agent, and when the answer may change."""
    allowed: bool
    code: str | None
    reason: str
    changes_at: datetime | None = None

    @property
    def can_call(self) -> bool:
        return self.allowed


def grant_end(grant: Grant, limits: Limits) -> datetime | None:
    """When a temporary grant stops allowing calls: our window or the reply's expiry, the earlier."""
    ends = [t for t in (grant.expires_at, grant.granted_at and grant.granted_at + limits.window) if t]
    return min(ends) if ends else None


def last_request(history: History, now: datetime) -> datetime | None:
    sent = [t for t in history.requests if t <= now]
    return max(sent) if sent else None


def status(history: History, now: datetime, limits: Limits) -> str:
    """The status as of ``now``: a grant past its end and a request unanswered for 7 days are expired."""
    grant = history.grant
    if grant.status == "granted" and not grant.permanent:
        end = grant_end(grant, limits)
        return "granted" if end and now < end else "expired"
    if grant.status == "pending":
        sent = last_request(history, now)
        return "pending" if sent and now < sent + REQUEST_TTL else "expired"
    return grant.status


def counted_requests(history: History, now: datetime, span: timedelta) -> list[datetime]:
    """Requests inside the rolling ``span`` that count: a connected call resets both limits."""
    reset = history.grant.last_connected_at
    # ">=": a request sent in the same instant as the call still counts (the safe side)
    return sorted(t for t in history.requests if now - span < t <= now and (reset is None or t >= reset))


def invite_free_at(sent: list[datetime], now: datetime, limits: Limits) -> datetime | None:
    """When the next call invite may go (None: now). Invites are template messages to the contact too, so
    they count like requests (the same per-day and per-week numbers), on their own."""
    inside = sorted(t for t in sent if now - WEEK < t <= now)
    day = _free_at([t for t in inside if now - DAY < t], limits.requests_per_day, DAY)
    return _latest(day, _free_at(inside, limits.requests_per_week, WEEK))


def _free_at(times: list[datetime], limit: int, span: timedelta) -> datetime | None:
    """When fewer than ``limit`` of these times remain inside the rolling span (None: already)."""
    return times[len(times) - limit] + span if len(times) >= limit else None


def request_verdict(history: History, now: datetime, limits: Limits) -> Verdict:
    """May we send a permission request now? If not, why and from when (``changes_at``)."""
    grant, current = history.grant, status(history, now, limits)
    if current == "granted":
        end = None if grant.permanent else grant_end(grant, limits)
        until = "permanently" if grant.permanent else "until " + _when(end)
        return Verdict(False, "already_granted", f"The contact already allows calls {until}.",
                       None if grant.permanent else _latest(end, _limits_free_at(history, end, limits)))
    blocked = _limits_free_at(history, now, limits)
    if blocked:
        day, week = (len(counted_requests(history, now, span)) for span in (DAY, WEEK))
        if grant.declined_at and now < grant.declined_at + DECLINE_COOLDOWN:
            why = "The contact declined less than 24 hours ago"
        elif day >= limits.requests_per_day:
            why = f"WhatsApp allows {limits.requests_per_day} permission request(s) per 24 hours"
        else:
            why = f"WhatsApp allows {limits.requests_per_week} permission requests per 7 days ({week} sent)"
        return Verdict(False, "permission_rate_limited", f"{why}; you can ask again at {_when(blocked)}.", blocked)
    if current == "pending":
        return Verdict(True, None, "A request is waiting for an answer; WhatsApp's limits allow a reminder.")
    return Verdict(True, None, "You can ask the contact for permission to call them on WhatsApp.")


def _limits_free_at(history: History, at: datetime, limits: Limits) -> datetime | None:
    """The first time from ``at`` on when the request limits and the decline cooldown all allow a request."""
    day = _free_at(counted_requests(history, at, DAY), limits.requests_per_day, DAY)
    week = _free_at(counted_requests(history, at, WEEK), limits.requests_per_week, WEEK)
    declined = history.grant.declined_at
    cooldown = declined + DECLINE_COOLDOWN if declined and at < declined + DECLINE_COOLDOWN else None
    return _latest(day, week, cooldown)


def call_verdict(history: History, now: datetime, limits: Limits) -> Verdict:
    """May an agent place a business-initiated call now? Needs a live grant and room under the daily cap."""
    grant, current = history.grant, status(history, now, limits)
    if current != "granted":
        return Verdict(False, "permission_required", NO_GRANT[current](grant), None)
    connected = sorted(t for t in history.connected_calls if now - DAY < t <= now)
    full = _free_at(connected, limits.max_connected_per_day, DAY)
    if full:
        return Verdict(False, "call_limit_reached",
                       f"WhatsApp allows {limits.max_connected_per_day} connected calls to a contact per 24 hours; "
                       f"you can call again at {_when(full)}.", full)
    placing = [t for t in history.reserved_calls if now - DAY < t <= now]
    if len(connected) + len(placing) >= limits.max_connected_per_day:
        return Verdict(False, "call_limit_reached",
                       f"WhatsApp allows {limits.max_connected_per_day} connected calls to a contact per 24 hours, "
                       "and a call being placed right now may take the last one; try again when it ends.", None)
    if grant.permanent:
        return Verdict(True, None, "The contact allows calls permanently.")
    end = grant_end(grant, limits)
    return Verdict(True, None, f"The contact allows calls until {_when(end)}.", end)


NO_GRANT = {
    "none": lambda g: "The contact has not given permission for WhatsApp calls yet. Ask them first.",
    "pending": lambda g: "The permission request is waiting for the contact's answer.",
    "denied": lambda g: "The contact declined WhatsApp calls.",
    "expired": lambda g: "The contact's permission (or the request) has expired. Ask again.",
    "revoked": lambda g: f"The contact's permission was withdrawn: {g.revoked_reason or 'revoked'}",
}


def requested(grant: Grant, now: datetime) -> Grant:
    """A request was sent: we wait for the answer."""
    return replace(grant, status="pending")


def replied(grant: Grant, reply: Reply, now: datetime, limits: Limits) -> Grant:
    """The user answered: a grant for our window (or their earlier expiry, or for good), or a decline."""
    if not reply.accepted:
        return replace(grant, status="denied", declined_at=now, granted_at=None, expires_at=None, permanent=False)
    ends = [now + limits.window] + ([reply.expires_at] if reply.expires_at else [])
    source = ("callback" if reply.is_callback_grant else
              "profile" if reply.source == "meta" and not reply.context_id else "request")
    return replace(grant, status="granted", granted_at=now, permanent=reply.permanent,
                   expires_at=None if reply.permanent else min(ends), consecutive_missed=0,
                   declined_at=None, revoked_reason=None, source=source,
                   note=f"The contact accepted at {_when(now)}.")


def called_in(grant: Grant, at: datetime, limits: Limits) -> Grant:
    """The contact called us with callback permission on: Meta's temporary grant (7 days, capped by our
    window), unless what they already gave lasts longer."""
    ends = at + min(limits.window, META_WINDOW)
    if grant.status == "granted" and (grant.permanent or (grant_end(grant, limits) or at) >= ends):
        return grant
    return replace(grant, status="granted", granted_at=at, permanent=False, expires_at=at + META_WINDOW,
                   consecutive_missed=0, declined_at=None, revoked_reason=None, source="callback",
                   note=f"The contact called us at {_when(at)}.")


def called(grant: Grant, *, connected: bool, business_initiated: bool, at: datetime, limits: Limits) -> Grant:
    """A call ended: connected resets the missed count and the request limits; N misses in a row revoke."""
    if connected:
        latest = _latest(grant.last_connected_at, at)
        return replace(grant, consecutive_missed=0, last_connected_at=latest)
    if not business_initiated:
        return grant
    missed = grant.consecutive_missed + 1
    if missed >= limits.missed_before_revoke and grant.status == "granted":
        return revoked(replace(grant, consecutive_missed=missed),
                       f"{missed} business calls in a row went unanswered (WhatsApp revokes the permission).")
    return replace(grant, consecutive_missed=missed)


def revoked(grant: Grant, reason: str) -> Grant:
    """Only a grant can be withdrawn (a pending request or a decline stays what it is)."""
    if grant.status != "granted":
        return grant
    return replace(grant, status="revoked", revoked_reason=reason, expires_at=None, permanent=False)


def undelivered(grant: Grant) -> Grant:
    """The latest request never reached the contact: nothing is pending any more."""
    return replace(grant, status="none") if grant.status == "pending" else grant


def _latest(*times):
    present = [t for t in times if t]
    return max(present) if present else None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown time"
