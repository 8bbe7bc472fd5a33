"""The data: peewee models that read like the domain (CONTRACT §3). Phone numbers are E.164."""
import json

from peewee import (
    SQL,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from widget_app.core.clock import as_utc, isoformat, utcnow
from widget_app.core.ids import is_id
from widget_app.extensions import db


class UTCDateTimeField(DateTimeField):
    """Stores UTC, hands back aware UTC datetimes whatever the backend returns."""

    def db_value(self, value):
        value = as_utc(value)
        return super().db_value(value.replace(tzinfo=None) if value else None)

    def python_value(self, value):
        return as_utc(super().python_value(value))


class JSONField(TextField):
    """A JSON document kept as text, portable across SQLite and PostgreSQL."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


ADMIN, AGENT = "admin", "agent"


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class Agent(BaseModel):
    """A person who signs in to the widget, linked to their HubSpot user and owner."""
    email = CharField(unique=True)
    name = CharField()
    password_hash = CharField()
    hubspot_portal_id = CharField(null=True)
    hubspot_user_id = CharField(null=True)
    hubspot_owner_id = CharField(null=True, index=True)
    active = BooleanField(default=True)
    # Columns added after version 1 carry a database default too, so rows written by older code (or a
    # raw INSERT) still fit: admin | agent, only an admin installs the app in a portal.
    role = CharField(default="agent", constraints=[SQL("DEFAULT 'agent'")])
    available = BooleanField(default=True)  # rung only while a widget is open (socket heartbeat); README
    token_version = IntegerField(default=1)  # bumped on logout/disable: every older token dies
    last_seen_at = UTCDateTimeField(null=True)  # socket heartbeat, shared by every process
    missed_seen_id = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])  # the newest missed call this agent has looked at (the badge)
    created_at = UTCDateTimeField(default=utcnow)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def voice_identity(self) -> str:
        """The Twilio client identity of this agent's browser (letters, digits and _ only)."""
        return f"agent_{self.id}"

    @staticmethod
    def id_of_voice_identity(identity: str | None) -> int | None:
        """The agent id a Twilio client identity names (``agent_12`` -> 12); None for anything else."""
        prefix, _, digits = (identity or "").partition("_")
        return int(digits) if prefix == "agent" and is_id(digits) else None

    def to_dict(self) -> dict:
        return {"id": self.id, "email": self.email, "name": self.name, "active": self.active, "role": self.role,
                "available": self.available, "hubspot_portal_id": self.hubspot_portal_id,
                "hubspot_user_id": self.hubspot_user_id, "hubspot_owner_id": self.hubspot_owner_id}


# Who may take a call: the freshest heartbeats first, read in order (mixed directions need a DESC column).
Agent.add_index(Agent.index(Agent.active, Agent.available, Agent.last_seen_at.desc(), Agent.id))


class LoginAttempt(BaseModel):
    """Every sign-in attempt, so brute-force limits hold across processes."""
    email = CharField(index=True)
    ip = CharField(index=True)
    succeeded = BooleanField(default=False)
    attempted_at = UTCDateTimeField(default=utcnow, index=True)


class PhoneNumber(BaseModel):
    """One of our WhatsApp senders."""
    e164 = CharField(unique=True)
    friendly_name = CharField()
    is_default = BooleanField(default=False)
    time_zone = CharField(null=True)  # IANA name of the business hours' zone, e.g. Europe/Lisbon
    hours = JSONField(null=True)  # weekly schedule {"mon": [["09:00", "18:00"]], ...}; null: always open
    closed_dates = JSONField(null=True)  # ["2026-12-25", ...] in the number's time zone
    created_at = UTCDateTimeField(default=utcnow)

    def to_dict(self) -> dict:
        return {"e164": self.e164, "friendly_name": self.friendly_name, "is_default": self.is_default}


class Permission(BaseModel):
    """What a WhatsApp user has allowed us, one row per contact phone, shared by the whole team."""
    phone = CharField(unique=True)
    status = CharField(default="none")  # none|pending|granted|denied|expired|revoked
    granted_at = UTCDateTimeField(null=True)
    expires_at = UTCDateTimeField(null=True)
    permanent = BooleanField(default=False)
    consecutive_missed = IntegerField(default=0)
    declined_at = UTCDateTimeField(null=True)
    last_connected_at = UTCDateTimeField(null=True)  # a connected call resets the request limits
    revoked_at = UTCDateTimeField(null=True)
    revoked_reason = TextField(null=True)  # why: missed calls, WhatsApp error 37000, ...
    grant_source = CharField(null=True)  # where the grant came from: request | callback | profile
    grant_note = TextField(null=True)  # the grant's reason in words ("The contact called us at ...")
    request_lease_until = UTCDateTimeField(null=True)  # one request is being sent: others wait (2 workers)
    updated_at = UTCDateTimeField(default=utcnow)


class PermissionRequest(BaseModel):
    """Audit of every permission request we sent and every reply we received."""
    phone = CharField(index=True)
    kind = CharField(default="request")  # request | reply | callback | invite (a "Call us" button message)
    agent = ForeignKeyField(Agent, null=True, backref="permission_requests", on_delete="SET NULL")
    message_sid = CharField(null=True, unique=True)
    # request: sending|queued|sent|delivered|read|failed|undelivered|unknown (Twilio's delivery words);
    # reply: accepted|declined|revoked (WhatsApp's automatic reply), unsolicited (nobody asked), ignored
    status = CharField(default="sent")
    outcome = CharField(null=True)  # request: accepted|declined|expired once answered or stale
    in_reply_to = CharField(null=True, index=True)  # reply: the request's MessageSid it answers
    permanent = BooleanField(default=False)
    expires_at = UTCDateTimeField(null=True)
    error = TextField(null=True)
    raw = JSONField(null=True)
    created_at = UTCDateTimeField(default=utcnow, index=True)
    answered_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("phone", "created_at"), False),
                   (("phone", "kind", "created_at", "id"), False))  # the latest request: read in order


class Call(BaseModel):
    """One WhatsApp call, outbound or inbound, as Twilio reports it and the agent saves it."""
    direction = CharField()  # outbound | inbound
    status = CharField(default="queued")  # Twilio's words
    from_number = CharField()
    to_number = CharField()
    sid = CharField(null=True, unique=True)  # the WhatsApp leg's CallSid
    parent_sid = CharField(null=True, index=True)  # the browser leg (outbound) / the inbound leg
    answered_leg_sid = CharField(null=True)  # inbound: the <Client> leg that was answered; only it moves the call
    agent = ForeignKeyField(Agent, null=True, backref="calls", on_delete="SET NULL")
    hubspot_portal_id = CharField(null=True)
    contact_id = CharField(null=True)
    owner_id = CharField(null=True)
    engagement_id = CharField(null=True, unique=True)  # one HubSpot engagement logs one call
    started_at = UTCDateTimeField(default=utcnow)
    answered_at = UTCDateTimeField(null=True)
    ended_at = UTCDateTimeField(null=True)
    duration_seconds = IntegerField(null=True)
    notes = TextField(null=True)
    outcome = CharField(null=True)
    recording_url = TextField(null=True)
    recording_sid = CharField(null=True)
    error_code = CharField(null=True)
    error_message = TextField(null=True)
    missed_counted = BooleanField(default=False)  # an unanswered business call counted once
    contact_card = JSONField(null=True)  # inbound: the HubSpot contact matched when it rang
    called_back_at = UTCDateTimeField(null=True)  # missed inbound: when a callback to the caller connected
    voicemail_seconds = IntegerField(null=True)  # missed inbound: the caller left a voicemail (recording_*) this long
    # inbound: came in outside its number's business hours (nobody rang); a DB default, as rows are written
    # by code (and tests) that predate it
    after_hours = BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")])
    wrapup = CharField(null=True)  # null: the agent's notes are a draft; saved | discarded (the ended screen is done)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("agent", "created_at"), False), (("to_number", "created_at"), False),
                   (("from_number", "created_at"), False),
                   (("agent", "id"), False),  # history pages: newest first, whatever the table's size
                   (("direction", "status", "started_at"), False))  # the calls ringing now, oldest first

    @property
    def contact_phone(self) -> str:
        return self.to_number if self.direction == "outbound" else self.from_number

    @classmethod
    def by_twilio_sid(cls, sid: str | None) -> "Call | None":
        """The call a Twilio CallSid belongs to: its WhatsApp leg (``sid``) or the leg that dialed it."""
        if not sid:
            return None
        return cls.get_or_none((cls.sid == sid) | (cls.parent_sid == sid))

    @classmethod
    def by_ref(cls, ref) -> "Call | None":
        """A call by our id (ASCII digits) or by a Twilio CallSid of either leg."""
        key = str(ref)
        if key.isascii() and key.isdigit() and len(key) < 19:
            return cls.get_or_none(cls.id == int(key))
        return cls.by_twilio_sid(key)

    def to_dict(self) -> dict:
        return {"id": self.id, "sid": self.sid, "direction": self.direction, "status": self.status,
                "from": self.from_number, "to": self.to_number, "agent_id": self.agent_id,
                "engagement_id": self.engagement_id, "contact_id": self.contact_id,
                "started_at": isoformat(self.started_at), "answered_at": isoformat(self.answered_at),
                "ended_at": isoformat(self.ended_at), "duration_seconds": self.duration_seconds,
                "notes": self.notes, "outcome": self.outcome, "error_code": self.error_code,
                "error_message": self.error_message, "wrapup": self.wrapup,
                # who the contact is, as HubSpot named them when the call rang or was placed (no look-up here)
                "contact": ({"id": self.contact_card.get("id"), "name": self.contact_card.get("name")}
                            if self.contact_card else None)}


class CallRing(BaseModel):
    """An agent an inbound call rang, and whether they declined it (who may still take it)."""
    call = ForeignKeyField(Call, backref="rings", on_delete="CASCADE")
    agent = ForeignKeyField(Agent, backref="rings", on_delete="CASCADE")
    rung_at = UTCDateTimeField(default=utcnow)
    declined_at = UTCDateTimeField(null=True)
    leg_sid = CharField(null=True)  # the <Client> leg Twilio rang this agent's browser with
    leg_status = CharField(null=True)  # that leg's latest status (a losing leg ends here, not on the call)

    class Meta:
        indexes = ((("call", "agent"), True), (("agent", "rung_at"), False),
                   (("call", "id"), False))  # who a call rang, in the order they were rung


class EngagementSync(BaseModel):
    """The outbox of HubSpot writes: a saved call is a row here before it is anything in HubSpot."""
    call = ForeignKeyField(Call, backref="syncs", unique=True, on_delete="CASCADE")  # one row per call
    payload = JSONField()
    revision = IntegerField(default=1)  # bumped by every save: a worker finishing an older one leaves it pending
    attempts = IntegerField(default=0)
    next_attempt_at = UTCDateTimeField(default=utcnow)
    locked_until = UTCDateTimeField(null=True)  # a worker's lease; an expired lease is taken over
    lease_token = CharField(null=True)  # which claim holds the lease (compare-and-set)
    claimed_revision = IntegerField(null=True)  # set before each write: an earlier create may have landed
    engagement_id = CharField(null=True)  # HubSpot's id once created, kept even if the Call row is overwritten
    written_revision = IntegerField(null=True)  # the revision HubSpot's engagement holds; later steps may be due
    recording_ready_url = TextField(null=True)  # the hs_call_recording_url HubSpot was told it can transcribe
    task_id = CharField(null=True)  # a missed call's follow-up task in HubSpot, once created
    task_state = CharField(null=True)  # creating (a create was sent) | created | completed
    last_error = TextField(null=True)
    status = CharField(default="pending")  # pending | done | failed
    done = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("done", "next_attempt_at"), False),)


class WebhookEvent(BaseModel):
    """Idempotency keys of webhooks already handled (a retry of one changes nothing)."""
    key = CharField(unique=True)
    source = CharField()
    payload = JSONField(null=True)
    received_at = UTCDateTimeField(default=utcnow)

    @classmethod
    def record_once(cls, key: str, source: str, payload=None) -> bool:
        """Remember a webhook by its idempotency key; False when it was already handled.

        One statement: a duplicate key inserts nothing (ON CONFLICT DO NOTHING) and raises nothing,
        so the caller's transaction goes on without a savepoint.
        """
        inserted = (cls.insert(key=key, source=source, payload=payload, received_at=utcnow())
                    .on_conflict_ignore().as_rowcount().execute())
        return inserted == 1


class Portal(BaseModel):
    """A HubSpot account that installed the app, with its OAuth tokens."""
    portal_id = CharField(unique=True)
    access_token = TextField(null=True)
    refresh_token = TextField(null=True)
    expires_at = UTCDateTimeField(null=True)
    needs_reinstall = BooleanField(default=False)
    installed_by = ForeignKeyField(Agent, null=True, backref="installed_portals", on_delete="SET NULL")  # the admin
    installed_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)


class AdminAction(BaseModel):
    """The audit log of the admin console: who did what to what, when (every admin POST writes one)."""
    admin = ForeignKeyField(Agent, null=True, backref="admin_actions", on_delete="SET NULL")
    admin_email = CharField()  # kept as it was when the action was taken, even if the admin is renamed or gone
    action = CharField()  # agent.invite | agent.disable | ... (admin/audit.py names them)
    target = CharField(null=True)  # what it was done to, in words (an email, a number, an outbox row)
    details = JSONField(null=True)
    created_at = UTCDateTimeField(default=utcnow, index=True)


# Insights read a date range of calls: their start times, in order.
Call.add_index(Call.index(Call.started_at))


class InsightStale(BaseModel):
    """A UTC day whose calls or permission requests changed since the insight summaries over it were made.

    Only triggers write here (db.INSIGHT_MARKS: every insert, update and delete of a call or a request,
    whatever code ran it); the insights page consumes the marks and rebuilds the summaries they touch. A row per
    change, never one per day: a writer never waits on another writer's mark, nor relies on a mark that
    a page load may consume before the writer commits."""
    day = DateField()


class InsightDay(BaseModel):
    """The insights page's numbers for one local day in one IANA zone: a range is the merge of its days."""
    zone = CharField()
    day = DateField()
    first_utc = UTCDateTimeField()  # the day is [first_utc, after_utc) in UTC: 23, 24 or 25 hours
    after_utc = UTCDateTimeField()
    summary = JSONField()  # admin/insight_days.py: per agent outcomes, histograms, missed calls per hour, funnel

    class Meta:
        indexes = ((("zone", "day"), True), (("first_utc",), False))


ALL_MODELS = [Agent, LoginAttempt, PhoneNumber, Permission, PermissionRequest, Call, CallRing, EngagementSync,
              WebhookEvent, Portal, AdminAction, InsightStale, InsightDay]
