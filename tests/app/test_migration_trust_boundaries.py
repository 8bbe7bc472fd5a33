"""Schema version 2 (issue 12) on a database that `flask db upgrade` left at version 1: rows kept."""
import pytest
from peewee import IntegrityError
from playhouse.migrate import SqliteMigrator, migrate

from tests.helpers import TEST_SETTINGS
from widget_app import create_app
from widget_app import db as db_module
from widget_app.models import Agent, Call, Portal, db


@pytest.fixture
def version_one(database_url, tmp_path):
    """A database as version 1 of the schema left it (no unique engagement id, no roles)."""
    create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance")})
    db_module.upgrade(db_module.MIGRATIONS[:1])
    with db.connection_context():
        db.execute_sql("DROP INDEX call_engagement_id")
        migrator = db_module.migrator()
        legacy = {"legacy": True} if isinstance(migrator, SqliteMigrator) else {}  # SQLite rebuilds the table
        migrate(migrator.drop_column("agent", "role", **legacy), migrator.drop_column("portal", "installed_by_id", **legacy),
                migrator.drop_column("agent", "missed_seen_id", **legacy))  # migration 6's column
    return database_url


def _agent(email):
    """An agent row as version 1 stored it (no role)."""
    return db.execute_sql("INSERT INTO agent (email, name, password_hash, active, available, token_version, created_at) "
                          f"VALUES ({', '.join([db.param] * 7)})",
                          (email, "Old", "x", True, False, 1, "2025-01-01 00:00:00")).lastrowid or \
        db.execute_sql("SELECT id FROM agent WHERE email = " + db.param, (email,)).fetchone()[0]


def _call(agent_id, engagement_id):
    return Call.insert(direction="outbound", status="completed", from_number="+442071838750",
                       to_number="+447911123456", agent=agent_id, engagement_id=engagement_id).execute()


def test_upgrade_keeps_an_engagement_on_its_first_call_only_and_then_refuses_a_second(version_one):
    with db.connection_context():
        agent = _agent("old@example.com")
        first, second, other = _call(agent, "555"), _call(agent, "555"), _call(agent, "777")
    assert db_module.upgrade() == [version for version, *_ in db_module.MIGRATIONS[1:]]
    with db.connection_context():
        assert [(c.id, c.engagement_id) for c in Call.select().order_by(Call.id)] == [
            (first, "555"), (second, None), (other, "777")]
        with pytest.raises(IntegrityError), db.atomic():
            _call(agent, "777")


def test_upgrade_makes_the_oldest_agent_the_admin_and_keeps_every_agent_and_portal(version_one):
    with db.connection_context():
        oldest, newer = _agent("old@example.com"), _agent("new@example.com")
        db.execute_sql("INSERT INTO portal (portal_id, needs_reinstall, installed_at, updated_at) "
                       f"VALUES ('62515', {db.param}, '2025-01-01 00:00:00', '2025-01-01 00:00:00')", (False,))
    db_module.upgrade()
    with db.connection_context():
        assert [(a.id, a.role) for a in Agent.select().order_by(Agent.id)] == [(oldest, "admin"), (newer, "agent")]
        assert [(p.portal_id, p.installed_by_id) for p in Portal.select()] == [("62515", None)]
