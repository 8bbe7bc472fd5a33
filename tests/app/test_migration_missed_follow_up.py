"""Migration 9 (issue 15: callback grants, follow-up tasks) adds its columns to an older database and keeps every row."""
from playhouse.migrate import migrate

from widget_app import db as db_module
from widget_app.models import Permission, db


def test_migration_9_adds_the_grant_source_and_keeps_permissions(make_app, database_url):
    make_app(DATABASE_URL=database_url)
    with db.connection_context():
        for table, column in (("permission", "grant_source"), ("permission", "grant_note"), ("call", "called_back_at"),
                              ("engagement_sync", "task_id"), ("engagement_sync", "task_state")):
            migrate(db_module.migrator().drop_column(table, column))
        db_module.SchemaVersion.delete().where(db_module.SchemaVersion.version == 9).execute()
        db.execute_sql("INSERT INTO permission (phone, status, permanent, consecutive_missed, updated_at)"
                       " VALUES ('+447911123456', 'granted', true, 0, '2025-01-01')")
    assert db_module.upgrade() == [9]
    with db.connection_context():
        row = Permission.get(Permission.phone == "+447911123456")
        columns = {table: {c.name for c in db.get_columns(table)} for table in ("call", "engagement_sync")}
    assert (row.status, row.permanent, row.grant_source, row.grant_note) == ("granted", True, None, None)
    assert "called_back_at" in columns["call"] and {"task_id", "task_state"} <= columns["engagement_sync"]
