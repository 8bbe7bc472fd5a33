"""The permission ledger: a contact's history from the database, judged by the pure rules.

The only place that reads the clock for permissions (``utcnow()`` once per operation). Every
change is stored in one transaction (the ``Permission`` row locked on PostgreSQL) and then sent to
every widget as ``permission_updated``. Sending requests and applying replies over WhatsApp
messages lives in ``permissions.messages``.
"""
import contextlib
import logging
from datetime import timedelta

from flask import current_app
from peewee import SqliteDatabase, fn

from widget_app.core.clock import as_utc, isoformat, utcnow
from widget_app.core.errors import DomainError
from widget_app.core.phone import masked, twilio_e164
from widget_app.models import Call, Permission, PermissionRequest, db
from widget_app.permissions import rules
from widget_app.realtime import events, hub

log = logging.getLogger(__name__)
NOT_COUNTED = ("failed",)  # Twilio refused or never handed the message over: Meta never saw it
PLACING = ("queued", "initiated", "ringing")  # a business call that may still connect
# How long a call being placed holds its place under the cap: the browser dials within seconds and
# WhatsApp stops ringing after about a minute; a queued call whose browser never dialed lets go.
RESERVATION = timedelta(minutes=5)




def limits() -> rules.Limits:
    return rules.Limits.from_config(current_app.config)


def grant_of(row: Permission | None) -> rules.Grant:
    if row is None:
        return rules.Grant()
    return rules.Grant(status=row.status, granted_at=row.granted_at, expires_at=row.expires_at,
                       permanent=row.permanent, consecutive_missed=row.consecutive_missed,
                       declined_at=row.declined_at, last_connected_at=row.last_connected_at,
                       revoked_reason=row.revoked_reason, source=row.grant_source, note=row.grant_note)


def _requests(phone: str, now) -> list[PermissionRequest]:
    """In one query, newest first: the requests of the last 7 days (what the limits count) and the
    latest request whenever it was (what the widget shows)."""
    mine = (PermissionRequest.phone == phone) & (PermissionRequest.kind == "request")
    newest = PermissionRequest.select(PermissionRequest.id).where(mine).order_by(
        PermissionRequest.created_at.desc(), PermissionRequest.id.desc()).limit(1)
    return list(PermissionRequest.select(PermissionRequest.id, PermissionRequest.created_at, PermissionRequest.status,
                                         PermissionRequest.error)
                .where(mine & ((PermissionRequest.created_at > now - rules.WEEK) | (PermissionRequest.id == newest)))
                .order_by(PermissionRequest.created_at.desc(), PermissionRequest.id.desc()))


def _history(phone: str, now, row: Permission | None, requests: list[PermissionRequest],
             exclude_call: int | None = None) -> rules.History:
    """The rules' view from rows in hand, plus one query for the contact's recent business calls:
    connected in the last 24 h, or still being placed (but ``exclude_call``, the one asking)."""
    connected = Call.answered_at > now - rules.DAY
    placing = (Call.answered_at.is_null() & Call.status.in_(PLACING) & (Call.started_at > now - RESERVATION)
               & (Call.id != (exclude_call or 0)))
    calls = list(Call.select(Call.id, Call.answered_at, Call.started_at)
                 .where((Call.direction == "outbound") & (Call.to_number == phone) & (connected | placing)))
    counted = [r.created_at for r in requests if r.status not in NOT_COUNTED and r.created_at > now - rules.WEEK]
    return rules.History(grant=grant_of(row), requests=tuple(reversed(counted)),
                         connected_calls=tuple(c.answered_at for c in calls if c.answered_at is not None),
                         reserved_calls=tuple(c.started_at for c in calls if c.answered_at is None))


def history(phone: str, now, row: Permission | None = None, exclude_call: int | None = None) -> rules.History:
    """What the rules need: the stored grant, requests of the last 7 days, connected calls of the last 24 h
    and the calls being placed (but ``exclude_call``, the one asking)."""
    row = row if row is not None else Permission.get_or_none(Permission.phone == phone)
    return _history(phone, now, row, _requests(phone, now), exclude_call)


def permission_json(phone: str, row: Permission | None = None) -> dict:
    """The CONTRACT's permission object (plus the reasons), as of now; ``row``: the Permission row in hand."""
    phone, now, lim = twilio_e164(phone), utcnow(), limits()
    row = row if row is not None else Permission.get_or_none(Permission.phone == phone)
    requests = _requests(phone, now)
    past = _history(phone, now, row, requests)
    status = rules.status(past, now, lim)
    call, ask = rules.call_verdict(past, now, lim), rules.request_verdict(past, now, lim)
    latest = requests[0] if requests else None
    expires_at = None
    if status == "granted" and not past.grant.permanent:
        expires_at = rules.grant_end(past.grant, lim)
    elif status == "pending":
        expires_at = rules.last_request(past, now) + rules.REQUEST_TTL
    return {"phone": phone, "status": status, "can_call": call.allowed, "can_request": ask.allowed,
            "expires_at": isoformat(expires_at), "next_request_at": isoformat(ask.changes_at),
            # requests that count against the limits (a connected call resets them)
            "requests_last_24h": len(rules.counted_requests(past, now, rules.DAY)),
            "requests_last_7d": len(rules.counted_requests(past, now, rules.WEEK)),
            "consecutive_missed": past.grant.consecutive_missed,
            "permanent": past.grant.permanent and status == "granted",
            "reason": call.reason, "call_code": call.code, "request_reason": ask.reason, "request_code": ask.code,
            # when the call verdict may change (a full daily cap frees up, a grant ends), and the limits
            # it counts against, so the widget can say the rule and its time in the rep's own clock
            "call_changes_at": isoformat(call.changes_at),
            "connected_calls_per_day": lim.max_connected_per_day, "missed_before_revoke": lim.missed_before_revoke,
            "granted_at": isoformat(past.grant.granted_at) if status == "granted" else None,
            "granted_by": past.grant.source if status == "granted" else None,
            "grant_reason": past.grant.note if status == "granted" else None,
            "requested_at": isoformat(latest.created_at) if latest else None,
            "request_delivery": latest.status if latest else None, "request_error": latest.error if latest else None,
            "invite": invite_json(phone, now, lim)}


INVITE_NOT_REACHED = ("failed", "undelivered", "canceled")


def invites_sent(phone: str, now) -> list[PermissionRequest]:
    """The call invites of the last 7 days that may have reached the contact, newest first."""
    return list(PermissionRequest.select().where(
        (PermissionRequest.phone == phone) & (PermissionRequest.kind == "invite")
        & (PermissionRequest.created_at > now - rules.WEEK) & PermissionRequest.status.not_in(INVITE_NOT_REACHED))
        .order_by(PermissionRequest.created_at.desc(), PermissionRequest.id.desc()))


def invite_json(phone: str, now, lim: rules.Limits) -> dict:
    """The call invite (issue 15): offered when TWILIO_CALL_INVITE_CONTENT_SID is set; when the last one went
    and when the next may."""
    if not current_app.config.get("TWILIO_CALL_INVITE_CONTENT_SID"):
        return {"available": False, "sent_at": None, "delivery": None, "can_invite": False, "next_invite_at": None}
    sent = invites_sent(phone, now)
    free_at = rules.invite_free_at([row.created_at for row in sent], now, lim)
    return {"available": True, "sent_at": isoformat(sent[0].created_at) if sent else None,
            "delivery": sent[0].status if sent else None, "can_invite": free_at is None,
            "next_invite_at": isoformat(free_at)}


def pending_for(agent_id: int, limit: int = 20) -> list[dict]:
    """The contacts this agent asked (the requests we recorded as theirs) whose answer is still awaited,
    newest request first."""
    since = utcnow() - rules.REQUEST_TTL
    asked = (PermissionRequest.select(PermissionRequest.phone, fn.MAX(PermissionRequest.created_at).alias("sent"))
             .where((PermissionRequest.agent == agent_id) & (PermissionRequest.kind == "request")
                    & (PermissionRequest.created_at > since))
             .group_by(PermissionRequest.phone).order_by(fn.MAX(PermissionRequest.created_at).desc()))
    phones = [row.phone for row in asked]
    rows = {row.phone: row for row in Permission.select().where(Permission.phone.in_(phones))} if phones else {}
    waiting = [permission_json(phone, rows.get(phone)) for phone in phones
               if rows.get(phone) is not None and rows[phone].status == "pending"]
    return [p for p in waiting if p["status"] == "pending"][:limit]


def latest_request(phone: str, sent_only: bool = False) -> PermissionRequest | None:
    """The last request we tried to send this contact (``sent_only``: the last one Twilio took)."""
    query = PermissionRequest.select().where((PermissionRequest.phone == phone) & (PermissionRequest.kind == "request"))
    if sent_only:
        query = query.where(PermissionRequest.message_sid.is_null(False))
    return query.order_by(PermissionRequest.created_at.desc(), PermissionRequest.id.desc()).first()


def call_verdict(phone: str, exclude_call: int | None = None, row: Permission | None = None) -> rules.Verdict:
    """May a business-initiated call go to this contact now (``.can_call``, ``.code``, ``.reason``)?
    ``exclude_call``: the call asking, whose own place under the cap does not count against it;
    ``row``: the contact's Permission row in hand (the one ``lock`` returned)."""
    phone, now = twilio_e164(phone), utcnow()
    row = row if row is not None else Permission.get_or_none(Permission.phone == phone)
    # Requests decide a call only through a pending grant (still awaited, or expired unanswered): one query less
    # on every call to a contact who answered.
    requests = _requests(phone, now) if row is not None and row.status == "pending" else []
    return rules.call_verdict(_history(phone, now, row, requests, exclude_call), now, limits())


def ensure_row(phone: str):
    """Every contact we touch gets its Permission row (safe when two processes race to create it)."""
    Permission.insert(phone=phone, updated_at=utcnow()).on_conflict_ignore().execute()


def lock(phone: str) -> Permission:
    """The contact's row, locked until the caller's transaction ends, so checks and writes about this
    contact happen one at a time across workers (SQLite: the transaction's BEGIN IMMEDIATE already holds).
    Created the first time; a contact we know costs one statement."""
    query = Permission.select().where(Permission.phone == phone)
    query = query if isinstance(db.obj, SqliteDatabase) else query.for_update()
    row = query.first()
    if row is None:
        ensure_row(phone)
        row = query.get()
    return row


def _own_transaction():
    """A transaction of our own, or none inside the caller's (a savepoint would only add round trips)."""
    return contextlib.nullcontext() if db.in_transaction() else db.atomic()


def change(phone: str, transition, now=None, notify_widgets: bool = True) -> Permission | None:
    """Apply ``transition(grant, now) -> grant`` to the locked row; store and announce any change.

    Returns the changed row (None when nothing changed), so a caller whose transaction is still open
    can announce it after its commit (``notify(phone, row)``) without reading it again.
    """
    now = now or utcnow()
    with _own_transaction():  # SQLite: BEGIN IMMEDIATE (db.py); PostgreSQL: the row is locked below
        row = lock(phone)
        before = grant_of(row)
        after = transition(before, now)
        if after != before:
            for name in ("status", "granted_at", "expires_at", "permanent", "consecutive_missed", "declined_at",
                         "last_connected_at", "revoked_reason"):
                setattr(row, name, getattr(after, name))
            row.grant_source, row.grant_note = after.source, after.note
            if after.status == "revoked" and before.status != "revoked":
                row.revoked_at = now
            row.updated_at = now
            row.save()
    if after == before:
        return None
    log.info("permission %s: %s -> %s", masked(phone), before.status, after.status)
    if notify_widgets:
        notify(phone, row)
    return row


def notify(phone: str, row: Permission | None = None):
    """Tell every widget (the whole team shares permissions); realtime never raises, nor do we."""
    try:
        hub.notify(None, events.permission_updated(permission_json(phone, row)))
    except Exception:  # a broken socket hub must not undo a stored permission change
        log.exception("could not announce the permission change of %s", masked(phone))


def _contact(phone: str) -> str | None:
    try:
        return twilio_e164(phone)
    except DomainError:
        log.warning("permission ledger: %s is not a phone number; nothing recorded", masked(phone))
        return None


def record_call_result(phone: str, *, connected: bool, business_initiated: bool = True, at=None,
                       notify_widgets: bool = True) -> Permission | None:
    """Once per finished call: connected resets the request limits and the missed count; misses revoke."""
    phone, lim = _contact(phone), limits()
    if not phone:
        return None
    at = as_utc(at) or utcnow()
    return change(phone, lambda grant, now: rules.called(grant, connected=connected,
                                                         business_initiated=business_initiated, at=at, limits=lim),
                  notify_widgets=notify_widgets)


def grant_callback(phone: str, call_sid: str, at) -> bool:
    """A contact called us while Meta's callback_permission_status is on (CALLBACK_PERMISSION): Meta
    grants a temporary permission, which we audit and apply. Call inside the caller's transaction;
    the widgets hear of it through ``notify`` afterwards. False when the setting is off."""
    if not current_app.config.get("CALLBACK_PERMISSION"):
        return False
    lim = limits()
    with db.atomic():
        PermissionRequest.create(phone=phone, kind="callback", status="accepted", outcome="accepted",
                                 in_reply_to=call_sid, expires_at=at + rules.META_WINDOW, created_at=at,
                                 answered_at=at, raw={"CallSid": call_sid})
        change(phone, lambda grant, now: rules.called_in(grant, at, lim), now=at, notify_widgets=False)
    log.info("permission %s: callback grant from inbound call %s", masked(phone), call_sid)
    return True


def revoke(phone: str, reason: str, notify_widgets: bool = True) -> Permission | None:
    """WhatsApp said the permission is gone (e.g. error 37000): no more calls until the contact grants again."""
    phone = _contact(phone)
    return change(phone, lambda grant, now: rules.revoked(grant, reason), notify_widgets=notify_widgets) \
        if phone else None
