"""Every call on HubSpot's timeline exactly once: outbox rows in, a worker writes them (reference §1).

At most once, even if a worker dies mid-write: a PATCH sets the same properties again, so repeating
it is harmless. A create is not: before creating, a worker that sees an earlier unfinished attempt
(``claimed_revision`` is set before every write and cleared only on success) first searches HubSpot
for our ``hs_call_external_id``, and HubSpot's id is stored the moment the create answers. Because a
create is never retried inside the client (only 429s, which HubSpot refused outright), an unknown
outcome always waits at least RETRY_BASE or a lease (seconds), giving HubSpot's search index time.
A row whose properties carry a new recording then tells HubSpot it is ready (recordings/ready, §5.2);
if that fails the row retries with the outbox's backoff and, its revision already written, only that.
"""
import logging

from flask import current_app

from widget_app.core.clock import isoformat, utcnow
from widget_app.core.ids import is_id
from widget_app.hubspot import outbox, recordings, tasks
from widget_app.hubspot.client import HubSpotError
from widget_app.hubspot.contacts import find_contact_by_phone
from widget_app.hubspot.portals import hubspot_client
from widget_app.hubspot.urls import paths
from widget_app.models import Call, EngagementSync, db

log = logging.getLogger(__name__)
CALL_TO_CONTACT = 194
# HubSpot's default call outcomes (hs_call_disposition GUIDs, reference §1.3), in the order the
# wrap-up picker offers them, with the hs_call_status whose end pre-selects it. The widget reads
# them from its page (<option data-suggest>); nothing else lists them.
CALL_OUTCOMES = [
    {"id": "f240bbac-87c9-4f6e-bf70-924b57d47db7", "label": "Connected", "suggest": "COMPLETED"},
    {"id": "9d9162e7-6cf3-4944-bf63-4dff82258764", "label": "Busy", "suggest": "BUSY"},
    {"id": "73a0d17f-1163-4015-bdd5-ec830791da20", "label": "No answer", "suggest": "NO_ANSWER"},
    {"id": "a4c4c377-d246-4b32-a13b-75a56a4cd0ff", "label": "Left live message"},
    {"id": "b2cf5968-551e-4856-9783-52b3da59a7d0", "label": "Left voicemail"},
    {"id": "17b47fee-58de-441e-a44c-c6300d46f273", "label": "Wrong number"},
]
OUTCOMES = {outcome["id"]: outcome["label"] for outcome in CALL_OUTCOMES}
STATUSES = {"queued": "QUEUED", "ringing": "RINGING", "in-progress": "IN_PROGRESS", "completed": "COMPLETED",
            "busy": "BUSY", "no-answer": "NO_ANSWER", "failed": "FAILED", "canceled": "CANCELED"}


def external_id(call: Call) -> str:
    """Our id for the call on HubSpot's side: the Twilio CallSid, or ours before Twilio gave one."""
    return call.sid or f"wa-call-{call.id}"


def hs_status(call: Call) -> str:
    if call.direction == "inbound" and call.answered_at is None and call.status in ("no-answer", "canceled", "busy"):
        return "MISSED"
    return STATUSES.get(call.status, "UNKNOWN")


def call_properties(call: Call) -> dict:
    """The call as HubSpot's calls object wants it, every value a string (reference §1.2)."""
    config = current_app.config
    card = call.contact_card or {}
    owner = (call.agent.hubspot_owner_id if call.agent_id else None) or call.owner_id
    props = {"hs_timestamp": isoformat(call.started_at),
             "hs_call_title": f"WhatsApp call with {card.get('name') or call.contact_phone}",
             "hs_call_status": hs_status(call), "hs_call_direction": call.direction.upper(),
             "hs_call_from_number": call.from_number, "hs_call_to_number": call.to_number,
             "hs_call_source": "INTEGRATIONS_PLATFORM", "hs_call_external_id": external_id(call),
             "hs_call_app_id": str(config["HUBSPOT_APP_ID"] or ""),
             "hs_call_external_account_id": str(config["TWILIO_ACCOUNT_SID"] or "")}
    optional = {"hs_call_body": call.notes or voicemail_note(call), "hs_call_disposition": call.outcome, "hubspot_owner_id": owner,
                "hs_call_recording_url": recordings.media_url(call) if call.recording_url else None,
                "hs_call_duration": None if call.duration_seconds is None else call.duration_seconds * 1000}
    props.update({name: str(value) for name, value in optional.items() if value is not None})
    return props


def voicemail_note(call: Call) -> str | None:
    """A missed call's timeline note when the caller left a voicemail (the recording plays beside it)."""
    if call.voicemail_seconds is None:
        return None
    return f"Voicemail ({call.voicemail_seconds // 60}:{call.voicemail_seconds % 60:02d})"


def call_payload(call: Call) -> dict:
    """What the outbox row keeps: the properties, the contact to associate, the ids to search by."""
    ids = [external_id(call)] + ([f"wa-call-{call.id}"] if call.sid else [])
    payload = {"properties": call_properties(call), "external_ids": ids,
               "contact_id": call.contact_id or (call.contact_card or {}).get("id")}
    task = tasks.task_payload(call)
    if task:
        payload["task"] = task  # issue 15: a missed call's follow-up task, written after the engagement
    return payload


def enqueue_call_sync(call: Call) -> EngagementSync:
    """Queue (or refresh) the call's HubSpot write in the caller's transaction; the final state wins."""
    return outbox.queue(call, call_payload(call))


def retry_call_sync(call: Call) -> EngagementSync:
    """The agent's retry: rebuild the write from the call as it is now and queue it at once."""
    return outbox.queue(call, call_payload(call), force=True)


def _remember(call: Call, row_id: int, engagement_id: str):
    """Store HubSpot's id the moment we learn it, so no later attempt creates a second one."""
    with db.atomic():
        Call.update(engagement_id=engagement_id, updated_at=utcnow()).where(
            (Call.id == call.id) & Call.engagement_id.is_null()).execute()
        EngagementSync.update(engagement_id=engagement_id).where(EngagementSync.id == row_id).execute()


def _find_created(client, payload: dict) -> str | None:
    """The engagement an earlier, unfinished attempt may have created, found by our external id."""
    account = payload["properties"]["hs_call_external_account_id"]
    groups = [{"filters": [{"propertyName": "hs_call_external_id", "operator": "EQ", "value": value},
                           {"propertyName": "hs_call_external_account_id", "operator": "EQ", "value": account}]}
              for value in payload["external_ids"]]
    body = {"filterGroups": groups, "properties": ["hs_call_external_id"], "sorts": [], "limit": 10, "after": "0"}
    results = client.request("POST", paths().calls_search, json=body, idempotent=True).get("results") or []
    return str(results[0]["id"]) if results else None


def _contact_id(call: Call, payload: dict) -> str | None:
    """The contact to associate: the one we know, else whoever HubSpot has with this number."""
    if payload.get("contact_id"):
        return str(payload["contact_id"])
    contact = find_contact_by_phone(call.contact_phone, call.hubspot_portal_id, raise_errors=True)
    if contact:
        Call.update(contact_id=contact["id"]).where((Call.id == call.id) & Call.contact_id.is_null()).execute()
        return contact["id"]
    return None


def engagement_path(engagement_id: str) -> str:
    """The engagement's URL path: only an id of ASCII digits, and quoted as one path segment all the same."""
    if not is_id(engagement_id):
        raise HubSpotError(f"The call's HubSpot engagement id {engagement_id[:40]!r} is not an id; nothing was written.",
                           code="invalid_engagement_id")
    return paths().call(engagement_id)


def write(client, call: Call, lease: outbox.Lease) -> str:
    """Write one outbox row to HubSpot: PATCH the engagement we know, else find or create it. Returns its id."""
    payload = lease.row.payload
    engagement_id = call.engagement_id or lease.row.engagement_id
    if engagement_id and not call.engagement_id:  # a full save() elsewhere wrote back a stale, empty id
        _remember(call, lease.row.id, engagement_id)
    if not engagement_id and lease.earlier_attempt_unfinished:
        engagement_id = _find_created(client, payload)
        if engagement_id:
            _remember(call, lease.row.id, engagement_id)
            if lease.row.claimed_revision == lease.revision:
                return engagement_id  # the lost attempt created it with exactly this state
    if engagement_id:
        client.request("PATCH", engagement_path(engagement_id), json={"properties": payload["properties"]})
        return engagement_id
    contact_id = _contact_id(call, payload)
    associations = [{"to": {"id": contact_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                          "associationTypeId": CALL_TO_CONTACT}]}] if contact_id else []
    created = client.request("POST", paths().calls, json={"properties": payload["properties"], "associations": associations})
    _remember(call, lease.row.id, str(created["id"]))
    return str(created["id"])


def apply(lease: outbox.Lease):
    """Write the row (unless an earlier pass did), then tell HubSpot once that a new recording is ready."""
    call = Call.get_by_id(lease.row.call_id)
    client = hubspot_client(call.hubspot_portal_id)
    if lease.written:
        engagement_id = call.engagement_id or lease.row.engagement_id
    else:
        engagement_id = write(client, call, lease)
        outbox.mark_written(lease)
    recording_url = lease.row.payload["properties"].get("hs_call_recording_url")
    if recording_url and recording_url != lease.row.recording_ready_url:
        try:
            recordings.mark_ready(client, engagement_id)  # a transient failure retries the row, skipping the write
        except HubSpotError as exc:
            if exc.transient:
                raise
            # The engagement and its recording URL are written; only transcription was refused (e.g. a
            # private-app token where HubSpot wants the portal's OAuth token). Don't show the call as failed.
            log.warning("HubSpot refused recordings/ready for engagement %s: %s", engagement_id, exc)
        outbox.mark_recording_ready(lease, recording_url)
    contact_id = Call.get_by_id(call.id).contact_id or lease.row.payload.get("contact_id")  # write() may have found it
    tasks.write(client, call, lease, contact_id)


def process(lease: outbox.Lease):
    """Apply a row and record the outcome: done, retry later (transient), or failed (HubSpot said no)."""
    try:
        apply(lease)
    except HubSpotError as exc:
        if exc.transient:
            log.warning("HubSpot write for call %s will be retried: %s", lease.row.call_id, exc)
            outbox.retry_later(lease, str(exc), exc.retry_after)
        else:
            log.warning("HubSpot refused the write for call %s: %s", lease.row.call_id, exc)
            outbox.fail(lease, str(exc))
        return
    outbox.finish(lease)


def drain(app) -> int:
    """Write every row that is due now, one lease at a time; returns how many were attempted."""
    count = 0
    with app.app_context(), db.connection_context():
        while (lease := outbox.claim_next()) is not None:
            try:
                process(lease)
            except Exception:  # a bug in one row must not stop the others; its lease expires and it retries
                log.exception("outbox row %s crashed", lease.row.id)
            count += 1
    return count

