"""A HubSpot follow-up task for every missed inbound call, written by the outbox after the call's engagement.

Exactly once, like the engagement: before the create, the row is marked ``creating`` (committed); a
worker that finds it so and without a task id first searches HubSpot for the task (same subject, same
due time to the millisecond), since a create that timed out or answered 5xx may have landed. A create
is never repeated inside the client (only 429s), and the outbox's backoff gives the search index time.
Once a callback connects, the task is completed with one PATCH; nothing else is ever written over it,
so a rep's own edits in HubSpot stay.
"""
import logging
from datetime import datetime, timedelta

from flask import current_app

from widget_app.core.clock import isoformat
from widget_app.hubspot import outbox
from widget_app.hubspot.urls import paths
from widget_app.models import Call

log = logging.getLogger(__name__)
TASK_TO_CONTACT = 204  # HUBSPOT_DEFINED task -> contact (reference: tasks guide)
MISSED = ("no-answer", "busy", "failed", "canceled")


def wanted(call: Call) -> bool:
    """Only an inbound call nobody answered gets a follow-up task (FOLLOW_UP_TASKS, on by default)."""
    return (bool(current_app.config.get("FOLLOW_UP_TASKS")) and call.direction == "inbound"
            and call.answered_at is None and call.status in MISSED)


def task_payload(call: Call) -> dict | None:
    """The task as HubSpot's tasks object wants it: "Call back <name>", due after the configured delay."""
    if not wanted(call):
        return None
    config = current_app.config
    card = call.contact_card or {}
    missed_at = call.ended_at or call.started_at
    due = missed_at + timedelta(minutes=int(config.get("FOLLOW_UP_TASK_DELAY_MINUTES") or 0))
    props = {"hs_timestamp": isoformat(due), "hs_task_subject": f"Call back {card.get('name') or call.from_number}",
             "hs_task_body": f"Missed WhatsApp call from {call.from_number} at {call.started_at:%Y-%m-%d %H:%M} UTC.",
             "hs_task_status": "COMPLETED" if call.called_back_at else "NOT_STARTED",
             "hs_task_type": "CALL", "hs_task_priority": "HIGH"}
    owner = call.owner_id or card.get("owner_id") or config.get("FOLLOW_UP_TASK_OWNER_ID")
    if owner:
        props["hubspot_owner_id"] = str(owner)
    return {"properties": props}


def _find_created(client, properties: dict) -> str | None:
    """The task an earlier, unfinished create may have made: same subject, same due time (epoch ms)."""
    due_ms = str(int(datetime.fromisoformat(properties["hs_timestamp"].replace("Z", "+00:00")).timestamp() * 1000))
    body = {"filterGroups": [{"filters": [
        {"propertyName": "hs_task_subject", "operator": "EQ", "value": properties["hs_task_subject"]},
        {"propertyName": "hs_timestamp", "operator": "EQ", "value": due_ms}]}],
        "properties": ["hs_task_status"], "sorts": [], "limit": 1, "after": "0"}
    results = client.request("POST", paths().tasks_search, json=body, idempotent=True).get("results") or []
    return str(results[0]["id"]) if results else None


def write(client, call: Call, lease: outbox.Lease, contact_id: str | None):
    """Create the call's task once (or find the one a lost attempt made); complete it after a callback."""
    task = lease.row.payload.get("task")
    if not task:
        return
    properties = task["properties"]
    task_id = lease.row.task_id
    if task_id is None and lease.row.task_state == "creating":
        task_id = _find_created(client, properties)
        if task_id:
            log.info("outbox row %s: found task %s from an earlier attempt", lease.row.id, task_id)
            outbox.remember_task(lease, task_id, "created")
    if task_id is None:
        outbox.remember_task(lease, None, "creating")
        associations = [{"to": {"id": contact_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                              "associationTypeId": TASK_TO_CONTACT}]}] if contact_id else []
        created = client.request("POST", paths().tasks, json={"properties": properties, "associations": associations})
        state = "completed" if properties["hs_task_status"] == "COMPLETED" else "created"
        outbox.remember_task(lease, str(created["id"]), state)
        return
    if properties["hs_task_status"] == "COMPLETED" and lease.row.task_state != "completed":
        client.request("PATCH", paths().task(task_id), json={"properties": {"hs_task_status": "COMPLETED"}})
        outbox.remember_task(lease, task_id, "completed")
