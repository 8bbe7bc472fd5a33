"""The schema: every model's table, indexes and unique constraints; `flask db upgrade` is idempotent."""
import peewee
import pytest
from peewee import IntegerField
from playhouse.migrate import migrate

from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app import db as db_module
from widget_app.db import SchemaVersion
from widget_app.models import (
    ALL_MODELS,
    Agent,
    Call,
    EngagementSync,
    Permission,
    PermissionRequest,
    PhoneNumber,
    Portal,
    WebhookEvent,
    db,
)


@pytest.fixture
def fresh_app(database_url, tmp_path):
    """An app on a brand-new database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""
    return create_app({**TEST_SETTINGS, "DATABASE_URL": database_url,
                       "INSTANCE_PATH": str(tmp_path / "instance")})


def schema_snapshot():
    """Tables with their columns and indexes, as the database itself reports them."""
    snapshot = {}
    with db.connection_context():
        for table in sorted(db.get_tables()):
            columns = sorted((c.name, c.data_type, c.null) for c in db.get_columns(table))
            indexes = sorted((i.name, tuple(i.columns), i.unique) for i in db.get_indexes(table))
            snapshot[table] = (columns, indexes)
    return snapshot


def test_upgrade_creates_every_model_table(fresh_app):
    runner = fresh_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f"schema version {max(version for version, _, _ in db_module.MIGRATIONS)}" in result.output
    with db.connection_context():
        tables = set(db.get_tables())
    assert {model._meta.table_name for model in ALL_MODELS} <= tables
    assert "schema_version" in tables


def test_upgrade_twice_changes_nothing(fresh_app):
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["db", "upgrade"])
    before = schema_snapshot()
    with db.connection_context():
        Agent.create(email="kept@example.com", name="Kept", password_hash="x")
        versions_before = [(v.version, v.applied_at) for v in SchemaVersion.select()]
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0
    assert "up to date" in result.output
    assert schema_snapshot() == before
    with db.connection_context():
        assert [(v.version, v.applied_at) for v in SchemaVersion.select()] == versions_before
        assert Agent.select().count() == 1


def test_a_later_migration_adds_a_column_and_keeps_rows(fresh_app):
    db_module.upgrade()
    with db.connection_context():
        Agent.create(email="old@example.com", name="Old", password_hash="x")

    def add_column(migrator):
        migrate(migrator.add_column("agent", "shoe_size", IntegerField(null=True)))

    applied = db_module.upgrade(db_module.MIGRATIONS + [(99, "add shoe size", add_column)])
    assert applied == [99]
    with db.connection_context():
        assert "shoe_size" in [c.name for c in db.get_columns("agent")]
        assert Agent.get(Agent.email == "old@example.com").name == "Old"
        assert db_module.current_version() == 99
    assert db_module.upgrade(db_module.MIGRATIONS + [(99, "add shoe size", add_column)]) == []


@pytest.mark.parametrize("model, fields", [
    (Agent, {"email": "same@example.com", "name": "A", "password_hash": "x"}),
    (PhoneNumber, {"e164": "+442071838750", "friendly_name": "UK"}),
    (Permission, {"phone": "+447400123456"}),
    (WebhookEvent, {"key": "twilio:CA1:completed", "source": "twilio"}),
    (Portal, {"portal_id": "62515"}),
])
def test_unique_constraints_hold(fresh_app, model, fields):
    db_module.upgrade()
    with db.connection_context():
        model.create(**fields)
        with pytest.raises(peewee.IntegrityError), db.atomic():
            model.create(**fields)


def test_call_and_outbox_rows_round_trip_utc_and_json(fresh_app):
    db_module.upgrade()
    with db.connection_context():
        agent = Agent.create(email="a@example.com", name="A", password_hash="x")
        call = Call.create(direction="outbound", from_number="+442071838750", to_number="+447400123456",
                           agent=agent, sid="CA" + "a" * 32)
        sync = EngagementSync.create(call=call, payload={"properties": {"hs_call_body": "hi"}})
        PermissionRequest.create(phone="+447400123456", agent=agent, raw={"Body": "yes"})
        again = Call.get_by_id(call.id)
        assert again.started_at.tzinfo is not None
        assert again.to_dict()["started_at"].endswith("Z")
        assert EngagementSync.get_by_id(sync.id).payload == {"properties": {"hs_call_body": "hi"}}
        assert list(agent.calls) == [again]


def test_indexes_exist_for_the_hot_queries(fresh_app):
    db_module.upgrade()
    with db.connection_context():
        call_indexes = {tuple(i.columns) for i in db.get_indexes(Call._meta.table_name)}
        outbox_indexes = {tuple(i.columns) for i in db.get_indexes(EngagementSync._meta.table_name)}
        request_indexes = {tuple(i.columns) for i in db.get_indexes(PermissionRequest._meta.table_name)}
    assert ("agent_id", "created_at") in call_indexes
    assert ("done", "next_attempt_at") in outbox_indexes
    assert ("phone", "created_at") in request_indexes
