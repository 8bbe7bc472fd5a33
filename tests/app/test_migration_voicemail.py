"""Migration 11 (issue 15: voicemail) adds the voicemail's length and the after-hours mark to an older database
and keeps every call."""
from playhouse.migrate import migrate

from widget_app import db as db_module
from widget_app.models import Call, db


def test_migration_11_adds_voicemail_seconds_and_after_hours_and_keeps_calls(make_app, database_url):
    make_app(DATABASE_URL=database_url)
    with db.connection_context():
        migrate(db_module.migrator().drop_column("call", "voicemail_seconds"),
                db_module.migrator().drop_column("call", "after_hours"))
        db_module.SchemaVersion.delete().where(db_module.SchemaVersion.version == 11).execute()
        db.execute_sql("INSERT INTO call (direction, status, from_number, to_number, started_at, created_at, updated_at,"
                       " missed_counted) VALUES ('inbound', 'no-answer', '+447400123456', '+442071838750',"
                       " '2025-01-01', '2025-01-01', '2025-01-01', false)")
    assert db_module.upgrade() == [11]
    with db.connection_context():
        call = Call.get(Call.from_number == "+447400123456")
    assert (call.status, call.voicemail_seconds, call.after_hours) == ("no-answer", None, False)
