"""The outbox of HubSpot writes (EngagementSync rows): queue, lease, finish. The database holds it all.

A worker takes a row with a compare-and-set UPDATE (a lease with a token and an expiry), so two
workers, in one process or many, never hold the same row. A worker that dies leaves its lease to
expire; the next one takes the row over. ``revision`` grows with every save, so a worker that
finishes an older revision leaves the row pending and the final state is written next.
"""
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from peewee import IntegrityError

from widget_app.core.clock import isoformat, utcnow
from widget_app.models import EngagementSync, db

LEASE = timedelta(seconds=120)  # longer than the HubSpot client's worst case of waits and retries
RETRY_BASE, RETRY_CAP = 30, 3600  # seconds; 30 s also lets HubSpot's search index catch up (see engagements)


@dataclass
class Lease:
    """A worker's hold on one row, with the row as it was when taken."""
    row: EngagementSync
    token: str

    @property
    def revision(self) -> int:
        return self.row.revision

    @property
    def earlier_attempt_unfinished(self) -> bool:
        """An earlier attempt started a write and never reported success: it may have reached HubSpot."""
        return self.row.claimed_revision is not None

    @property
    def written(self) -> bool:
        """An earlier pass wrote this revision to HubSpot; only a later step (recordings/ready) failed."""
        return self.row.written_revision == self.row.revision


def queue(call, payload: dict, force: bool = False) -> EngagementSync:
    """Write or refresh the call's one row with the latest desired state, in the caller's transaction."""
    now = utcnow()
    with db.atomic():
        row = EngagementSync.get_or_none(EngagementSync.call == call.id)
        if row is None:
            try:
                with db.atomic():
                    return EngagementSync.create(call=call.id, payload=payload, next_attempt_at=now,
                                                 created_at=now, updated_at=now)
            except IntegrityError:  # another request queued it first: refresh theirs
                row = EngagementSync.get(EngagementSync.call == call.id)
        if row.payload == payload and not force:
            return row  # HubSpot already has, or is about to get, exactly this
        changes = {"payload": payload, "revision": EngagementSync.revision + 1, "status": "pending", "done": False,
                   "next_attempt_at": now, "updated_at": now}
        if force or row.status == "failed":
            changes.update(attempts=0, last_error=None)
        EngagementSync.update(**changes).where(EngagementSync.id == row.id).execute()
        return EngagementSync.get_by_id(row.id)


def _due(now):
    free = EngagementSync.locked_until.is_null() | (EngagementSync.locked_until < now)
    return ((EngagementSync.done == False) & (EngagementSync.status == "pending")
            & (EngagementSync.next_attempt_at <= now) & free)


def claim_next() -> Lease | None:
    """Take the next due row, or None; losing a race to another worker just tries the next one."""
    while True:
        now = utcnow()
        row = EngagementSync.select().where(_due(now)).order_by(EngagementSync.next_attempt_at).first()
        if row is None:
            return None
        token = uuid.uuid4().hex
        claimed = (EngagementSync.update(locked_until=now + LEASE, lease_token=token, updated_at=now,
                                         attempts=EngagementSync.attempts + 1, claimed_revision=row.revision)
                   .where((EngagementSync.id == row.id) & (EngagementSync.attempts == row.attempts)
                          & (EngagementSync.revision == row.revision) & _due(now))
                   .execute())
        if claimed:
            return Lease(row, token)


def _held(lease: Lease):
    return (EngagementSync.id == lease.row.id) & (EngagementSync.lease_token == lease.token)


def _release(lease: Lease, **changes):
    changes.update(locked_until=None, lease_token=None, updated_at=utcnow())
    return EngagementSync.update(**changes).where(_held(lease)).execute()


def mark_written(lease: Lease):
    """The engagement holds this revision now: a retry of what follows must not write it again."""
    EngagementSync.update(written_revision=lease.revision).where(_held(lease)).execute()


def mark_recording_ready(lease: Lease, recording_url: str):
    """HubSpot was told this recording is ready: it is never told again for the same URL."""
    EngagementSync.update(recording_ready_url=recording_url).where(EngagementSync.id == lease.row.id).execute()


def remember_task(lease: Lease, task_id: str | None, state: str):
    """The follow-up task's progress, stored the moment it is known (``creating`` before the create is sent);
    a known task id is never replaced."""
    query = EngagementSync.update(task_state=state, **({"task_id": task_id} if task_id else {}))
    query.where((EngagementSync.id == lease.row.id) & (EngagementSync.task_id.is_null()
                                                        | (EngagementSync.task_id == (task_id or "")))).execute()
    lease.row.task_state, lease.row.task_id = state, task_id or lease.row.task_id


def finish(lease: Lease) -> bool:
    """Mark the write done, unless a newer save arrived meanwhile (then it stays pending for the next pass)."""
    done = (EngagementSync.update(status="done", done=True, last_error=None, locked_until=None, lease_token=None,
                                  claimed_revision=None, updated_at=utcnow())
            .where(_held(lease) & (EngagementSync.revision == lease.revision)).execute())
    if not done:
        _release(lease, claimed_revision=None)
    return bool(done)


def retry_later(lease: Lease, message: str, retry_after: float | None = None):
    """A transient failure: keep the row pending and come back after an exponential, jittered delay."""
    attempts = lease.row.attempts + 1
    delay = min(RETRY_CAP, RETRY_BASE * 2 ** (attempts - 1)) * random.uniform(0.8, 1.2)
    _release(lease, last_error=message, next_attempt_at=utcnow() + timedelta(seconds=max(delay, retry_after or 0)))


def fail(lease: Lease, message: str):
    """A permanent failure: shown in the history until the agent retries (a newer save retries by itself)."""
    failed = (EngagementSync.update(status="failed", last_error=message, locked_until=None, lease_token=None,
                                    updated_at=utcnow())
              .where(_held(lease) & (EngagementSync.revision == lease.revision)).execute())
    if not failed:
        _release(lease, last_error=message)


def sync_json(row: EngagementSync | None) -> dict:
    """The widget's view of a call's HubSpot write: synced, pending or failed with HubSpot's reason."""
    if row is None:
        return {"status": "none", "error": None, "attempts": 0, "next_attempt_at": None}
    status = {"done": "synced"}.get(row.status, row.status)
    return {"status": status, "error": row.last_error, "attempts": row.attempts,
            "next_attempt_at": isoformat(row.next_attempt_at) if status == "pending" else None}
