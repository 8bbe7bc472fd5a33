"""A call's progress from Twilio's status callbacks: forward only, once per event, counted once."""
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from peewee import SqliteDatabase

from widget_app.calls import follow_up
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.hubspot import engagements
from widget_app.models import Agent, Call, CallRing, WebhookEvent, db
from widget_app.permissions import ledger
from widget_app.realtime import events, hub

log = logging.getLogger(__name__)
FINAL_STATUSES = ("completed", "busy", "no-answer", "failed", "canceled")
_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
# Twilio's WhatsApp errors (reference §1.5) in words an agent can act on.
ERROR_MESSAGES = {
    "37000": "The contact has not granted (or has withdrawn) permission for WhatsApp calls. "
             "Ask for permission again.",
    "37004": "WhatsApp refused the call: too many calls from this business number right now. "
             "Wait a few minutes and try again.",
    "37006": "This contact has reached the limit of business calls in 24 hours. "
             "Try again later, or ask them to call you.",
    "37007": "WhatsApp does not allow business-initiated calls from this sender's country. "
             "Call from a sender in another country, or ask the contact to call you.",
    "37008": "The sender this call went out from is not a registered WhatsApp sender. "
             "Pick another sender, or ask your admin to check the Twilio WhatsApp sender.",
}
# refused by WhatsApp or Twilio before the contact's phone rang: not an unanswered call
NOT_MISSED_ERRORS = ("37000", "37004", "37006", "37007", "37008")
# What a callback may change; `missed_counted` is set with them only under the call's row lock (_find).
PROGRESS_FIELDS = [Call.sid, Call.answered_leg_sid, Call.status, Call.answered_at, Call.ended_at, Call.duration_seconds,
                   Call.error_code, Call.error_message, Call.updated_at]


@dataclass(frozen=True)
class StatusUpdate:
    """One status callback of a call leg, as the Twilio webhook read it."""
    sid: str
    status: str
    parent_sid: str | None = None
    sequence: str = ""
    duration: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    client: str | None = None  # the <Client> identity this leg rang (an agent's browser), if it is one
    raw: dict = field(default_factory=dict)  # every field, kept with the idempotency record


def write_transaction():
    """A transaction holding SQLite's write lock from the start: a deferred one that reads and then
    writes fails at once ("database is locked") when another thread wrote meanwhile."""
    return db.atomic("IMMEDIATE") if isinstance(db.obj, SqliteDatabase) else db.atomic()


def locked(query):
    """``query`` locking its rows until the transaction ends: on PostgreSQL a second callback for the same
    call waits here and then reads the first one's result (SQLite's write lock, taken at BEGIN, does the same)."""
    return query if isinstance(db.obj, SqliteDatabase) else query.for_update()


def rank(status: str) -> int:
    """Where a status sits in a call's life; a call never moves to a lower rank."""
    return 4 if status in FINAL_STATUSES else _RANK.get(status, -1)


def notify_call(call: Call):
    """Tell the agent's widgets the call changed (never fails the caller)."""
    if call.agent_id:
        hub.notify([call.agent_id], events.call_status(call))


def _find(sid: str, parent_sid: str | None) -> tuple[Call | None, bool]:
    """The call a callback is about: by its leg's sid, else by the parent leg (the browser's, for an
    outbound call; the WhatsApp caller's, which is the call's own sid, for an inbound one)."""
    call = locked(Call.select().where(Call.sid == sid)).first()
    if call is None and parent_sid:
        return locked(Call.select().where((Call.parent_sid == parent_sid) | (Call.sid == parent_sid))).first(), True
    return call, False


def apply_status_callback(update: StatusUpdate) -> Call | None:
    """Apply one Twilio status callback; a retry, a stale or an unknown one changes nothing."""
    sid, status = update.sid, update.status
    if not sid or not status:
        raise DomainError("missing_field", "CallSid and CallStatus are required.")
    key = f"twilio-voice-status:{sid}:{status}:{update.sequence}"
    with write_transaction():
        call, via_parent = _find(sid, update.parent_sid)
        if call is None:
            log.info("status callback for unknown call %s (%s)", sid, status)
            return None
        if not WebhookEvent.record_once(key, "twilio-voice-status", update.raw):
            return call  # the same callback again
        changed, permission = _advance(call, update, via_parent)
    # Announced after the commit, from the rows in hand: a widget that reads back sees the same.
    if changed:
        notify_call(call)
    if permission is not None:
        ledger.notify(permission.phone, permission)
    return call


def _talked(update: StatusUpdate) -> bool:
    """A leg that completed after a conversation (its answered event may have been lost)."""
    duration = str(update.duration or "0")
    return update.status == "completed" and duration.isdigit() and int(duration) > 0


def _agent_leg_counts(call: Call, update: StatusUpdate) -> bool:
    """An inbound call rings up to ten <Client> legs and Twilio cancels the ones nobody answered, often
    after the winner's ``in-progress``. Each leg's news goes to its agent's ring row; only the answered
    leg (the first to answer, and the claiming agent's when one claimed) may move the call."""
    agent_id = Agent.id_of_voice_identity(update.client)
    if agent_id is not None:
        ring = CallRing.get_or_none(CallRing.call == call.id, CallRing.agent == agent_id)
        if ring is not None and rank(update.status) > rank(ring.leg_status or ""):
            ring.leg_sid, ring.leg_status = update.sid, update.status
            ring.save(only=[CallRing.leg_sid, CallRing.leg_status])
    if call.answered_leg_sid:
        return call.answered_leg_sid == update.sid
    if update.status != "in-progress" and not _talked(update):
        return False  # ringing, or a leg nobody answered: the <Dial action> (routing) decides "missed"
    if call.agent_id is not None and agent_id is not None and agent_id != call.agent_id:
        return False  # another agent claimed the call: this browser may not take it over
    call.answered_leg_sid = update.sid
    return True


def _advance(call: Call, update: StatusUpdate, via_parent: bool) -> tuple[bool, object]:
    """Move the call forward to ``update.status``: whether anything changed, and the contact's
    Permission row if the call's end changed it (to announce once committed)."""
    changed, status, accepted = False, update.status, call.answered_leg_sid
    if call.direction == "inbound" and via_parent:
        if not _agent_leg_counts(call, update):
            return False, None
        changed = call.answered_leg_sid != accepted
    talked = via_parent and _talked(update)  # the answered agent's leg
    if call.direction == "inbound" and status in FINAL_STATUSES and call.answered_at is None and not talked:
        return False, None  # an agent's leg nobody answered: the <Dial action> (routing) decides "missed"
    if call.sid is None and via_parent:
        call.sid, changed = update.sid, True  # the WhatsApp leg reports for the first time
    if rank(status) <= rank(call.status) or status in ("queued", "initiated"):
        if changed:
            call.save(only=PROGRESS_FIELDS)
        return changed, None
    now = utcnow()
    if status == "in-progress":
        call.status, call.answered_at = status, call.answered_at or now
    elif status in FINAL_STATUSES:
        _finish(call, status, now, update.duration, update.error_code, update.error_message)
    else:
        call.status = status
    call.updated_at = now
    if status not in FINAL_STATUSES:
        call.save(only=PROGRESS_FIELDS)
        return True, None
    first = not call.missed_counted  # read under the row lock (_find): exactly one callback counts the call
    call.missed_counted = True
    call.save(only=PROGRESS_FIELDS + [Call.missed_counted])
    permission = _record_result(call, first, count=str(call.error_code or "") not in NOT_MISSED_ERRORS)
    if call.direction == "inbound":
        engagements.enqueue_call_sync(call)  # the server logs every inbound call, once (issue 13 §9)
    return True, permission


def _finish(call: Call, status: str, now, duration=None, error_code=None, error_message=None):
    """Final state: end time, duration from Twilio (or our clock), and the error in words."""
    call.status, call.ended_at = status, call.ended_at or now
    if duration not in (None, "") and str(duration).isdigit():
        call.duration_seconds = int(duration)
    elif call.answered_at:
        call.duration_seconds = max(0, int((call.ended_at - call.answered_at).total_seconds()))
    else:
        call.duration_seconds = 0
    if call.answered_at is None and status == "completed" and (call.direction == "outbound" or call.duration_seconds):
        call.answered_at = call.ended_at - timedelta(seconds=call.duration_seconds)  # answered event lost
    if error_code:
        call.error_code = str(error_code)
        call.error_message = ERROR_MESSAGES.get(str(error_code)) or error_message or \
            f"Twilio reported error {error_code}."
    elif error_message:
        call.error_message = error_message


def _record_result(call: Call, first: bool, count: bool = True):
    """Tell the permission ledger how the call ended, exactly once per call (even across processes);
    returns the contact's Permission row if that changed it, for the caller to announce after its commit."""
    phone, revoked = call.contact_phone, None
    if call.error_code == "37000":
        revoked = ledger.revoke(phone, "WhatsApp refused the call: the contact's permission is gone (37000).",
                                notify_widgets=False)
    if not first or not count:
        return revoked
    connected = call.answered_at is not None
    if call.direction == "outbound":
        changed = ledger.record_call_result(phone, connected=connected, at=call.ended_at, notify_widgets=False)
        follow_up.called_back(call)  # issue 15: a connected callback completes the missed calls' tasks
        return changed or revoked
    if connected:
        return ledger.record_call_result(phone, connected=True, business_initiated=False, at=call.ended_at,
                                         notify_widgets=False) or revoked
    return revoked


def finish_locally(call: Call, status: str, error_code: str | None = None, error_message: str | None = None) -> Call:
    """End a call that never reached the contact (refused or never dialed): nothing to count. A call
    that already ended keeps its first end."""
    with write_transaction():
        call = locked(Call.select().where(Call.id == call.id)).get()
        if call.status in FINAL_STATUSES:
            return call
        _finish(call, status, utcnow(), error_code=error_code, error_message=error_message)
        call.missed_counted, call.updated_at = True, utcnow()
        call.save(only=PROGRESS_FIELDS + [Call.missed_counted])
    notify_call(call)
    return call
