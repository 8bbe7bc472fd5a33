"""The permissions section's service: one contact number's whole ledger on a timeline, what is allowed now
and when that changes (the permission ledger's own verdicts, as the widget gets them)."""
from dataclasses import dataclass
from datetime import datetime

from widget_app.calls.missed import UNANSWERED
from widget_app.core.clock import parse_isoformat
from widget_app.core.phone import to_e164
from widget_app.models import Agent, Call, Permission, PermissionRequest
from widget_app.permissions.ledger import call_verdict, permission_json

LIMIT = 200  # the newest requests and the newest calls each, at most


@dataclass
class Event:
    at: datetime
    what: str
    detail: str


@dataclass
class Lookup:
    phone: str
    summary: dict  # permission_json: the CONTRACT's permission object
    can_call: bool
    reason: str
    changes_at: datetime | None  # when the call verdict may change (None: not by time alone)
    next_request_at: datetime | None
    events: list  # Event, newest first


def _agent_names() -> dict:
    return dict(Agent.select(Agent.id, Agent.name).tuples())


def _call_event(call: Call, names: dict) -> Event:
    who = names.get(call.agent_id, "nobody") if call.agent_id else "nobody"
    if call.answered_at:
        what = f"{call.direction} call connected"
        detail = f"answered by {who}" if call.direction == "inbound" else f"placed by {who}"
        detail += f", {call.duration_seconds} s" if call.duration_seconds is not None else ""
    elif call.direction == "inbound" and call.status in UNANSWERED:
        what, detail = "inbound call missed", f"status {call.status}"
        if call.called_back_at:
            detail += f"; called back {call.called_back_at:%Y-%m-%d %H:%M} UTC"
    else:
        what, detail = f"{call.direction} call {call.status}", f"placed by {who}" if call.direction == "outbound" else ""
    if call.error_code:
        detail += f"; error {call.error_code}"
    return Event(call.started_at, what, detail)


def _request_event(row: PermissionRequest, names: dict) -> Event:
    if row.kind == "request":
        detail = f"by {names.get(row.agent_id, 'nobody') if row.agent_id else 'nobody'}; delivery {row.status}"
        if row.outcome:
            detail += f"; {row.outcome}"
        if row.error:
            detail += f"; error: {row.error}"
        return Event(row.created_at, "permission request sent", detail)
    detail = "permanent" if row.permanent else (f"until {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else "")
    return Event(row.created_at, f"contact's reply: {row.status}", detail)


def _grant_events(row: Permission | None) -> list[Event]:
    if row is None:
        return []
    events = []
    if row.granted_at:
        events.append(Event(row.granted_at, f"permission granted ({row.grant_source or 'request'})", row.grant_note or ""))
    if row.declined_at:
        events.append(Event(row.declined_at, "permission declined", ""))
    if row.revoked_at:
        events.append(Event(row.revoked_at, "permission revoked", row.revoked_reason or ""))
    return events


def lookup(number: str) -> Lookup:
    """Everything we know about calling this number, newest first; raises invalid_phone for a bad number."""
    phone, names = to_e164(number), _agent_names()
    requests = (PermissionRequest.select().where(PermissionRequest.phone == phone)
                .order_by(PermissionRequest.created_at.desc(), PermissionRequest.id.desc()).limit(LIMIT))
    calls = (Call.select().where(((Call.direction == "outbound") & (Call.to_number == phone))
                                 | ((Call.direction == "inbound") & (Call.from_number == phone)))
             .order_by(Call.started_at.desc(), Call.id.desc()).limit(LIMIT))
    events = [_request_event(row, names) for row in requests] + [_call_event(call, names) for call in calls]
    events += _grant_events(Permission.get_or_none(Permission.phone == phone))
    events.sort(key=lambda event: event.at, reverse=True)
    summary, verdict = permission_json(phone), call_verdict(phone)
    next_request = summary.get("next_request_at")
    return Lookup(phone, summary, verdict.allowed, verdict.reason, verdict.changes_at,
                  parse_isoformat(next_request) if next_request else None, events)
