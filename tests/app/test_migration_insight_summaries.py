"""Migration 12 (issue 18: insight summaries) adds insight_day and insight_stale to an older database and the
triggers that mark a changed call's or permission request's day; a later step that rebuilds the call table
(SQLite's way to add a NOT NULL column) keeps them."""
from datetime import UTC, date, datetime

from peewee import SQL, IntegerField, SqliteDatabase
from playhouse.migrate import migrate

from widget_app import db as db_module
from widget_app.models import Call, InsightStale, PermissionRequest, db

AT = datetime(2025, 1, 1, 9, tzinfo=UTC)


def triggers() -> set[str]:
    if isinstance(db.obj, SqliteDatabase):
        return {name for name, in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    return {name for name, in db.execute_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}


def a_call(**fields) -> Call:
    return Call.create(direction="inbound", status="no-answer", from_number="+447400123456",
                       to_number="+442071838750", started_at=AT, created_at=AT, **fields)


def test_migration_12_adds_the_summary_tables_and_triggers_and_keeps_calls(make_app, database_url):
    make_app(DATABASE_URL=database_url)
    with db.connection_context():
        for table in ("call", "permission_request"):
            if isinstance(db.obj, SqliteDatabase):
                for event in ("insert", "update", "delete"):
                    db.execute_sql(f"DROP TRIGGER {table}_marks_insights_{event}")
            else:
                db.execute_sql(f"DROP TRIGGER {table}_marks_insights ON {table}")
        db.drop_tables([InsightStale], safe=False)
        db.execute_sql("DROP TABLE insight_day")
        db_module.SchemaVersion.delete().where(db_module.SchemaVersion.version == 12).execute()
        call = a_call()
    assert db_module.upgrade() == [12]
    with db.connection_context():
        assert Call.get_by_id(call.id).status == "no-answer"
        assert {"insight_day", "insight_stale"} <= set(db.get_tables())
        Call.update(status="canceled").where(Call.id == call.id).execute()
        PermissionRequest.create(phone="+447400123456", created_at=datetime(2025, 1, 3, tzinfo=UTC))
        assert sorted(day for day, in InsightStale.select(InsightStale.day).tuples()) == \
            [date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 3)]  # the update's day before and after


def test_a_later_step_that_rebuilds_the_call_table_keeps_its_triggers(make_app, database_url):
    make_app(DATABASE_URL=database_url)
    with db.connection_context():
        before = triggers()
    assert {name for name in before if "marks_insights" in name}

    def add_not_null_column(migrator):
        migrate(migrator.add_column("call", "shoe_size", IntegerField(default=0, constraints=[SQL("DEFAULT 0")])))

    assert db_module.upgrade(db_module.MIGRATIONS + [(99, "a NOT NULL call column", add_not_null_column)]) == [99]
    with db.connection_context():
        assert triggers() == before
        InsightStale.delete().execute()
        a_call()
        assert [day for day, in InsightStale.select(InsightStale.day).tuples()] == [date(2025, 1, 1)]
