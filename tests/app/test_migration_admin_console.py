"""Migration 10 (issue 18: the admin console) adds the audit log and the calls-by-start index to an older database."""
from widget_app import db as db_module
from widget_app.models import AdminAction, Agent, Call, db


def test_migration_10_adds_the_audit_log_and_the_start_time_index(make_app, database_url):
    make_app(DATABASE_URL=database_url)
    with db.connection_context():
        db.drop_tables([AdminAction])
        db.execute_sql('DROP INDEX IF EXISTS "call_started_at"')
        db_module.SchemaVersion.delete().where(db_module.SchemaVersion.version == 10).execute()
        admin = Agent.create(email="boss@example.com", name="Boss", password_hash="x", role="admin")
        Call.create(direction="inbound", status="no-answer", from_number="+447911123456", to_number="+442071838750")
    assert db_module.upgrade() == [10]
    with db.connection_context():
        assert {"call_started_at"} <= {index.name for index in db.get_indexes("call")}
        AdminAction.create(admin=admin, admin_email=admin.email, action="agent.invite", target="x@example.com")
        assert AdminAction.select().count() == 1 and Call.select().count() == 1
    assert db_module.upgrade() == []  # idempotent
