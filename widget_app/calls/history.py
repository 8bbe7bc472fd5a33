"""HTTP API for saving a call (queued for HubSpot), the agent's history, and sync retries (CONTRACT §4)."""
from flask import Blueprint, jsonify, request

from widget_app.calls import wrapup
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.ids import is_id
from widget_app.hubspot import outbox
from widget_app.hubspot.engagements import enqueue_call_sync, retry_call_sync
from widget_app.models import Call, EngagementSync, db
from widget_app.web.auth import current_agent, login_required
from widget_app.web.jsonbody import json_body

bp = Blueprint("history_api", __name__, url_prefix="/api")
BODY_LIMIT = 6 * wrapup.MAX_NOTES + 1024  # full notes fit even when every character arrives as a \uXXXX escape
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


def _own_call(call_id: str) -> Call:
    """The agent's own call by id or CallSid; anyone else's is 404, the same as one that does not exist."""
    return wrapup.own_call(current_agent(), call_id)


def _sync_row(call: Call) -> EngagementSync | None:
    return EngagementSync.get_or_none(EngagementSync.call == call.id)


def _with_sync(call: Call, row: EngagementSync | None) -> dict:
    return {**call.to_dict(), "sync": outbox.sync_json(row)}


@bp.post("/calls/<call_id>/complete")
@login_required
def complete(call_id):
    """Save the agent's notes and outcome and queue them for HubSpot in one transaction (never lost)."""
    request.max_content_length = BODY_LIMIT
    body = json_body(notes=(str, None), outcome=(str, None))
    notes, outcome = wrapup.checked(body["notes"], body["outcome"])
    with db.atomic():
        call = _own_call(call_id)
        call.notes, call.outcome, call.wrapup, call.updated_at = notes, outcome, wrapup.SAVED, utcnow()
        # never overwrite what a webhook just set
        call.save(only=[Call.notes, Call.outcome, Call.wrapup, Call.updated_at])
        row = enqueue_call_sync(Call.get_by_id(call.id))
    return jsonify({"call": _own_call(call_id).to_dict(), "sync": outbox.sync_json(row)}), 202


@bp.put("/calls/<call_id>/draft")
@login_required
def draft(call_id):
    """Keep the notes and outcome as they are typed (nothing goes to HubSpot), so a reload loses nothing."""
    request.max_content_length = BODY_LIMIT
    body = json_body(notes=(str, None), outcome=(str, None))
    call = wrapup.save_draft(current_agent(), call_id, body["notes"], body["outcome"])
    return jsonify({"call": call.to_dict()})


@bp.post("/calls/<call_id>/discard")
@login_required
def discard(call_id):
    """The agent chose not to log notes for this call (the widget asked them to confirm)."""
    return jsonify({"call": wrapup.discard(current_agent(), call_id).to_dict()})


@bp.get("/calls")
@login_required
def history():
    """The agent's recent calls, newest first, each with where its HubSpot write stands."""
    limit, before = request.args.get("limit", str(DEFAULT_LIMIT)), request.args.get("before")
    if not (limit.isascii() and limit.isdigit() and len(limit) <= 3) or not 1 <= int(limit) <= MAX_LIMIT:
        raise DomainError("invalid_field", f"limit must be a whole number from 1 to {MAX_LIMIT}.", field="limit")
    if before is not None and not is_id(before):
        raise DomainError("invalid_field", "before must be a call id.", field="before")
    query = Call.select().where(Call.agent == current_agent().id)
    if before is not None:
        query = query.where(Call.id < int(before))
    calls = list(query.order_by(Call.id.desc()).limit(int(limit)))
    rows = {row.call_id: row for row in EngagementSync.select().where(EngagementSync.call.in_([c.id for c in calls]))}
    return jsonify({"calls": [_with_sync(call, rows.get(call.id)) for call in calls]})


@bp.post("/calls/<call_id>/sync/retry")
@login_required
def retry(call_id):
    """Queue a failed (or never queued) HubSpot write again, now, from the call as it is today."""
    with db.atomic():
        call = _own_call(call_id)
        row = _sync_row(call)
        if row is not None and row.status == "done":
            raise DomainError("already_synced", "This call is already on HubSpot's timeline.")
        row = retry_call_sync(call)
        wrapup.mark_saved(call)
    return jsonify({"call": call.to_dict(), "sync": outbox.sync_json(row)}), 202
