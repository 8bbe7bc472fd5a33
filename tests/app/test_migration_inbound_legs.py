"""Migration 4 adds the answered leg to calls and each leg's status to ring rows, keeping every row."""
from playhouse.migrate import migrate

from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app import db as db_module
from widget_app.models import Call, CallRing, db


def test_a_version_1_database_gains_the_leg_columns_and_keeps_its_rows(database_url, tmp_path):
    create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance")})
    db_module.upgrade([step for step in db_module.MIGRATIONS if step[0] == 1])
    with db.connection_context():  # the tables as version 1 shipped them
        migrate(db_module.migrator().drop_column("call", "answered_leg_sid"),
                db_module.migrator().drop_column("call_ring", "leg_sid"),
                db_module.migrator().drop_column("call_ring", "leg_status"),
                db_module.migrator().drop_column("call", "wrapup"),  # migration 6's columns
                db_module.migrator().drop_column("agent", "missed_seen_id"))
        db.execute_sql('INSERT INTO agent (email, name, password_hash, active, available, token_version, created_at, '
                       "role) VALUES ('old@example.com', 'Old', 'x', true, false, 1, '2025-05-01 12:00:00', 'agent')")
        agent_id = db.execute_sql("SELECT id FROM agent WHERE email = 'old@example.com'").fetchone()[0]
        db.execute_sql("INSERT INTO call (direction, status, from_number, to_number, missed_counted, started_at, "
                       "created_at, updated_at) VALUES ('inbound', 'ringing', '+447911123456', '+442071838750', "
                       "false, '2025-05-01 12:00:00', '2025-05-01 12:00:00', '2025-05-01 12:00:00')")
        call_id = db.execute_sql("SELECT max(id) FROM call").fetchone()[0]
        db.execute_sql(f"INSERT INTO call_ring (call_id, agent_id, rung_at) VALUES ({call_id}, {agent_id}, "
                       "'2025-05-01 12:00:00')")
    assert 4 in db_module.upgrade()
    with db.connection_context():
        call = Call.get_by_id(call_id)
        assert (call.status, call.answered_leg_sid) == ("ringing", None)
        ring = CallRing.get(CallRing.call == call_id)
        assert (ring.agent_id, ring.leg_sid, ring.leg_status) == (agent_id, None, None)
