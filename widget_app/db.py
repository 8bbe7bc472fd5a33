"""Database binding, a connection per request, and `flask db upgrade` (versioned, idempotent)."""
import logging
import os
from time import monotonic

import click
from flask import current_app, request
from flask.cli import AppGroup
from peewee import SQL, BooleanField, CharField, ForeignKeyField, IntegerField, Model, SqliteDatabase, TextField, fn
from playhouse.db_url import connect, register_database, schemes
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate
from playhouse.pool import PooledPostgresqlDatabase

from widget_app.core.clock import utcnow
from widget_app.models import (
    ADMIN,
    AGENT,
    ALL_MODELS,
    AdminAction,
    Agent,
    Call,
    CallRing,
    EngagementSync,
    InsightDay,
    InsightStale,
    PermissionRequest,
    UTCDateTimeField,
    db,
)

log = logging.getLogger(__name__)
db_cli = AppGroup("db", help="Database schema commands.")


class SchemaVersion(Model):
    """One row per applied migration: what `flask db upgrade` has already done."""
    version = IntegerField(primary_key=True)
    description = CharField()
    applied_at = UTCDateTimeField(default=utcnow)

    class Meta:
        database = db
        table_name = "schema_version"


def _initial_schema(migrator):
    db.create_tables(ALL_MODELS, safe=True)


def add_missing_columns(migrator, table: str, **fields):
    """Add these columns, keeping every row; a database that step 1 created from today's models has them."""
    present = {column.name for column in db.get_columns(table)}
    migrate(*(migrator.add_column(table, name, field) for name, field in fields.items() if name not in present))


def _inbound_legs(migrator):
    add_missing_columns(migrator, "call", answered_leg_sid=CharField(null=True))
    add_missing_columns(migrator, "call_ring", leg_sid=CharField(null=True), leg_status=CharField(null=True))


def _wrapup_and_missed(migrator):
    """Drafts that survive a reload (Call.wrapup) and the Missed badge (Agent.missed_seen_id)."""
    add_missing_columns(migrator, "call", wrapup=CharField(null=True))
    add_missing_columns(migrator, "agent", missed_seen_id=IntegerField(default=0, constraints=[SQL("DEFAULT 0")]))
    # A call already queued for HubSpot was saved: its ended screen must not come back.
    Call.update(wrapup="saved").where(Call.id.in_(EngagementSync.select(EngagementSync.call))).execute()


def _has_unique_index(table: str, columns: list[str]) -> bool:
    return any(index.unique and index.columns == columns for index in db.get_indexes(table))


def _trust_boundaries(migrator):
    """Roles (the oldest agent becomes the admin), who installed each portal, one call per engagement id."""
    add_missing_columns(migrator, "agent", role=CharField(default=AGENT, constraints=[SQL(f"DEFAULT '{AGENT}'")]))
    add_missing_columns(migrator, "portal", installed_by_id=ForeignKeyField(
        Agent, null=True, field=Agent.id, on_delete="SET NULL"))
    if not Agent.select().where(Agent.role == ADMIN).exists():
        first = Agent.select(fn.MIN(Agent.id)).scalar()
        if first is not None:
            Agent.update(role=ADMIN).where(Agent.id == first).execute()
            log.warning("agent %s, the oldest, is now the admin (installs the app in HubSpot portals)", first)
    _one_call_per_engagement(migrator)


def _one_call_per_engagement(migrator):
    """A unique engagement id on calls; an id already on several calls stays only on the first of them."""
    if _has_unique_index("call", ["engagement_id"]):
        return
    duplicates = (Call.select(Call.engagement_id, fn.MIN(Call.id).alias("first"))
                  .where(Call.engagement_id.is_null(False)).group_by(Call.engagement_id)
                  .having(fn.COUNT(Call.id) > 1))
    for row in list(duplicates):
        cleared = (Call.update(engagement_id=None)
                   .where((Call.engagement_id == row.engagement_id) & (Call.id != row.first)).execute())
        log.warning("engagement %s was on %s more calls; kept on call %s only", row.engagement_id, cleared, row.first)
    migrate(migrator.add_index("call", ("engagement_id",), unique=True))


def _missed_call_follow_up(migrator):
    """Issue 15: where a grant came from (a callback, a request); missed calls' follow-up tasks."""
    add_missing_columns(migrator, "permission", grant_source=CharField(null=True), grant_note=TextField(null=True))
    add_missing_columns(migrator, "call", called_back_at=UTCDateTimeField(null=True))
    add_missing_columns(migrator, "engagement_sync", task_id=CharField(null=True), task_state=CharField(null=True))
    add_missing_columns(migrator, "phone_number", time_zone=CharField(null=True), hours=TextField(null=True),
                        closed_dates=TextField(null=True))


def _voicemail(migrator):
    """Issue 15: a missed call's voicemail keeps its audio in recording_url/recording_sid, its length here;
    whether an inbound call came in after hours is kept as it was judged then."""
    add_missing_columns(migrator, "call", voicemail_seconds=IntegerField(null=True),
                        after_hours=BooleanField(default=False, constraints=[SQL("DEFAULT FALSE")]))


def _list_indexes(migrator):
    """Indexes that hand every list query its rows in ORDER BY order (history must not slow as it grows)."""
    for index in (Call.index(Call.agent, Call.id), Call.index(Call.direction, Call.status, Call.started_at),
                  CallRing.index(CallRing.call, CallRing.id),
                  PermissionRequest.index(PermissionRequest.phone, PermissionRequest.kind,
                                          PermissionRequest.created_at, PermissionRequest.id),
                  Agent.index(Agent.active, Agent.available, Agent.last_seen_at.desc(), Agent.id)):
        db.execute(index)  # CREATE INDEX IF NOT EXISTS: a fresh install already has them


def _admin_console(migrator):
    """Issue 18: the admin console's audit log, and the index insights read a date range of calls by."""
    db.create_tables([AdminAction], safe=True)
    db.execute(Call.index(Call.started_at))  # CREATE INDEX IF NOT EXISTS


# Every change to a call marks its UTC day for the insights summaries (admin/insight_days.py), and the
# days of the permission requests whose funnel it may answer (a later outbound call to the phone); a
# change to a request marks its own day. Before and after an update. Triggers, not Python hooks:
# Model.update() queries and insert_many run no hooks. A row per change: a writer never waits for
# another's mark. The day is the database's date of the stored UTC time, never its clock.
INSIGHT_MARKS = {  # table -> what a changed row ({row}: OLD or NEW) marks; the same SQL on both databases
    "call": ["INSERT INTO insight_stale (day) VALUES (date({row}.started_at))",
             """INSERT INTO insight_stale (day) SELECT DISTINCT date(created_at) FROM permission_request
                WHERE phone = {row}.to_number AND kind = 'request' AND answered_at <= {row}.created_at
                AND (expires_at IS NULL OR expires_at >= {row}.created_at)"""],
    "permission_request": ["INSERT INTO insight_stale (day) VALUES (date({row}.created_at))"],
}
TRIGGER_ROWS = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}


def _marks(table: str, row: str) -> str:
    return "".join(mark.format(row=row) + ";\n" for mark in INSIGHT_MARKS[table])


def _sqlite_triggers(table: str) -> list[str]:
    return [f"""CREATE TRIGGER IF NOT EXISTS {table}_marks_insights_{event.lower()} AFTER {event} ON {table}
                BEGIN {"".join(_marks(table, row) for row in rows)} END""" for event, rows in TRIGGER_ROWS.items()]


def _postgres_triggers(table: str) -> list[str]:
    return [f"""CREATE OR REPLACE FUNCTION {table}_marks_insights() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP <> 'INSERT' THEN {_marks(table, "OLD")} END IF;
                    IF TG_OP <> 'DELETE' THEN {_marks(table, "NEW")} END IF;
                    RETURN NULL;
                END $$""",
            # DROP then CREATE, not CREATE OR REPLACE TRIGGER: that needs PostgreSQL 14, this works from 11
            f"DROP TRIGGER IF EXISTS {table}_marks_insights ON {table}",
            f"""CREATE TRIGGER {table}_marks_insights AFTER INSERT OR UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_marks_insights()"""]


def create_insight_triggers():
    """The call and permission_request triggers for insights (idempotent: SQLite drops a table's triggers
    when its migrator rebuilds the table, so upgrade() makes them again after any step)."""
    triggers = _sqlite_triggers if isinstance(db.obj, SqliteDatabase) else _postgres_triggers
    for statement in triggers("call") + triggers("permission_request"):
        db.execute_sql(statement)


def _insight_summaries(migrator):
    """Issue 18: the insights page merges per-day summaries that every change to a call marks stale."""
    db.create_tables([InsightStale, InsightDay], safe=True)
    create_insight_triggers()


# Append (version, description, function(migrator)) to change the schema; never edit a shipped step.
# A step that adds a column uses `migrate(migrator.add_column(table, name, field))`, keeping every row.
MIGRATIONS = [
    (1, "initial schema", _initial_schema),
    (2, "trust boundaries: roles, portal installers, one call per engagement", _trust_boundaries),
    (4, "inbound calls remember the answered leg; ring rows their leg's status", _inbound_legs),
    (6, "call wrap-up state and the agent's missed-calls mark", _wrapup_and_missed),
    (8, "indexes in the order of every list query", _list_indexes),
    (9, "missed-call follow-up: callback grants, follow-up tasks, business hours", _missed_call_follow_up),
    (10, "admin console: audit log, calls by start time", _admin_console),
    (11, "voicemail: how long the message a caller left on a missed call is; calls after hours", _voicemail),
    (12, "insights: per-day summaries, and call triggers that mark the days a change touches", _insight_summaries),
]


class WriteLockingSqliteDatabase(SqliteDatabase):
    """SQLite whose transactions take the write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes cannot wait for another writer: SQLite
    answers "database is locked" at once. Taking the lock at BEGIN lets busy_timeout do its job
    when two webhooks arrive together (threads in one process, or two processes).
    """

    def begin(self, lock_type=None):
        return super().begin(lock_type or "IMMEDIATE")


POOL_RECYCLE_SECONDS = 300  # a pooled connection older than this is closed rather than reused
PING_AFTER_IDLE_SECONDS = 1.0  # a pooled connection the server last answered longer ago is pinged before use


class PooledPostgres(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool, without its ``SELECT 1`` on every check-out of a connection the server
    answered moments ago (that ping cost a round trip per request).

    A connection whose last statement (or ping) the server answered under PING_AFTER_IDLE_SECONDS ago,
    and whose local state is clean (open, idle), is handed out as it is; any other is pinged as before, so
    a connection the server dropped while idle (a restart, an idle timeout) is replaced before a request
    uses it. The price: a restart within that second fails the request each such connection serves next.
    Only answers count: a request that ran no statement does not make its connection look alive.
    """

    def __init__(self, *args, **kwargs):
        self._answered_at = {}  # conn_key -> monotonic time the server last answered on that connection
        super().__init__(*args, **kwargs)

    def execute_sql(self, sql, params=None):
        cursor = super().execute_sql(sql, params)
        self._answered_at[self.conn_key(self._state.conn)] = monotonic()
        return cursor

    def _is_closed(self, conn):  # check-out, under the pool's lock
        key, adapter = self.conn_key(conn), self._adapter
        answered = self._answered_at.get(key)
        if (answered is not None and monotonic() - answered < PING_AFTER_IDLE_SECONDS and not conn.closed
                and adapter.txn_status(conn) == adapter.txn_idle):
            return False
        closed = super()._is_closed(conn)  # the ping (or a rollback)
        if not closed:
            self._answered_at[key] = monotonic()
        return closed

    def _close_raw(self, conn):
        self._answered_at.pop(self.conn_key(conn), None)
        super()._close_raw(conn)


register_database(PooledPostgres, "postgres+pool", "postgresql+pool")


def pooled_url(url: str) -> str:
    """The same server through peewee's connection pool (``postgresql://`` -> ``postgresql+pool://``)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}+pool{sep}{rest}" if f"{scheme}+pool" in schemes else url


def open_database(url: str, instance_path: str, pool_max: int = 10, pool_timeout: int = 10):
    """Open the database a URL names; the default SQLite file lives in instance/ with WAL on.

    A server database goes through a pool of at most ``pool_max`` connections per process: threads
    beyond it wait up to ``pool_timeout`` seconds instead of exhausting the server's own limit.
    """
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url[len("sqlite:///"):]
        if relative.startswith("instance/"):
            relative = os.path.join(instance_path, relative[len("instance/"):])
        os.makedirs(os.path.dirname(os.path.abspath(relative)), exist_ok=True)
        url = "sqlite:///" + os.path.abspath(relative)
    if url.startswith("sqlite"):
        # WAL with synchronous=NORMAL: a commit survives a killed process without an fsync of its own
        # (only a power cut can undo the last commits); FULL made every inbound call's two commits wait on the disk.
        return WriteLockingSqliteDatabase(url[len("sqlite:///"):], pragmas={
            "journal_mode": "wal", "synchronous": "normal", "foreign_keys": 1, "busy_timeout": 10000})
    return connect(pooled_url(url), max_connections=pool_max, timeout=pool_timeout,
                   stale_timeout=POOL_RECYCLE_SECONDS)


def init_app(app):
    """Bind the models to the configured database and open/close a connection per request."""
    database = open_database(app.config["DATABASE_URL"], app.instance_path,
                             app.config["DATABASE_POOL_MAX"], app.config["DATABASE_POOL_TIMEOUT"])
    db.initialize(database)
    app.extensions["database"] = database

    @app.before_request
    def _connect():
        # Static files never touch the database; the health check opens it itself to report failure.
        if request.endpoint not in ("static", "widget.healthz"):
            db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()

    app.cli.add_command(db_cli)


def migrator():
    database = db.obj
    return SqliteMigrator(database) if isinstance(database, SqliteDatabase) else PostgresqlMigrator(database)


def current_version() -> int:
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select().order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def upgrade(migrations=None) -> list[int]:
    """Apply every migration not yet recorded, each in its own transaction; returns what ran."""
    migrations = MIGRATIONS if migrations is None else migrations
    with db.connection_context():
        db.create_tables([SchemaVersion], safe=True)
        done = {row.version for row in SchemaVersion.select(SchemaVersion.version)}
        applied = []
        sqlite = isinstance(db.obj, SqliteDatabase)
        if sqlite:
            # SQLite's migrator rebuilds a table to add a NOT NULL column; with foreign keys on, dropping
            # the old table would cascade-delete the rows that point at it (a call's rings, say).
            db.execute_sql("PRAGMA foreign_keys = OFF")  # a no-op inside a transaction: set it outside
        try:
            for version, description, step in sorted(migrations, key=lambda migration: migration[0]):
                if version in done:  # by set, not "<= latest": a step merged later with a lower number still runs
                    continue
                with db.atomic():
                    step(migrator())
                    if sqlite and db.execute_sql("PRAGMA foreign_key_check").fetchall():
                        raise RuntimeError(f"migration {version} left rows pointing at nothing")
                    SchemaVersion.create(version=version, description=description)
                log.info("applied migration %s: %s", version, description)
                applied.append(version)
            if applied and db.table_exists(InsightStale._meta.table_name):
                with db.atomic():
                    create_insight_triggers()  # a step that rebuilt the call table on SQLite dropped them
        finally:
            if sqlite:
                db.execute_sql("PRAGMA foreign_keys = ON")
        return applied


@db_cli.command("upgrade")
def upgrade_command():
    """Create or upgrade the schema; running it again changes nothing."""
    applied = upgrade()
    with db.connection_context():
        version = current_version()
    if applied:
        click.echo(f"Upgraded {current_app.config['DATABASE_URL'].split('@')[-1]} to schema version {version} "
                   f"(applied {', '.join(map(str, applied))}).")
    else:
        click.echo(f"Schema is up to date (version {version}).")
