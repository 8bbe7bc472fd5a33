"""Database binding, a connection per request, and `flask db upgrade` (versioned, idempotent)."""
import logging
import os

import click
from flask import current_app, request
from flask.cli import AppGroup
from peewee import CharField, IntegerField, Model, SqliteDatabase
from playhouse.db_url import connect
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

from widget_app.core.clock import utcnow
from widget_app.models import ALL_MODELS, Agent, Call, CallRing, PermissionRequest, UTCDateTimeField, db

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


def _list_indexes(migrator):
    """Indexes that hand every list query its rows in ORDER BY order (history must not slow as it grows)."""
    for index in (Call.index(Call.agent, Call.id), Call.index(Call.direction, Call.status, Call.started_at),
                  CallRing.index(CallRing.call, CallRing.id),
                  PermissionRequest.index(PermissionRequest.phone, PermissionRequest.kind,
                                          PermissionRequest.created_at, PermissionRequest.id),
                  Agent.index(Agent.active, Agent.available, Agent.last_seen_at.desc(), Agent.id)):
        db.execute(index)  # CREATE INDEX IF NOT EXISTS: a fresh install already has them


# Append (version, description, function(migrator)) to change the schema; never edit a shipped step.
# A step that adds a column uses `migrate(migrator.add_column(table, name, field))`, keeping every row.
MIGRATIONS = [
    (1, "initial schema", _initial_schema),
    (8, "indexes in the order of every list query", _list_indexes),
]


class WriteLockingSqliteDatabase(SqliteDatabase):
    """SQLite whose transactions take the write lock up front (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes cannot wait for another writer: SQLite
    answers "database is locked" at once. Taking the lock at BEGIN lets busy_timeout do its job
    when two webhooks arrive together (threads in one process, or two processes).
    """

    def begin(self, lock_type=None):
        return super().begin(lock_type or "IMMEDIATE")


def open_database(url: str, instance_path: str):
    """Open the database a URL names; the default SQLite file lives in instance/ with WAL on."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url[len("sqlite:///"):]
        if relative.startswith("instance/"):
            relative = os.path.join(instance_path, relative[len("instance/"):])
        os.makedirs(os.path.dirname(os.path.abspath(relative)), exist_ok=True)
        url = "sqlite:///" + os.path.abspath(relative)
    if url.startswith("sqlite"):
        return WriteLockingSqliteDatabase(url[len("sqlite:///"):], pragmas={
            "journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000})
    return connect(url)


def init_app(app):
    """Bind the models to the configured database and open/close a connection per request."""
    database = open_database(app.config["DATABASE_URL"], app.instance_path)
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
        done = current_version()
        applied = []
        for version, description, step in migrations:
            if version <= done:
                continue
            with db.atomic():
                step(migrator())
                SchemaVersion.create(version=version, description=description)
            log.info("applied migration %s: %s", version, description)
            applied.append(version)
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
