"""Schema version 2 (issue 12) on a database that `flask db upgrade` left at version 1: rows kept."""
import pytest
from peewee import IntegrityError

from widget_app import create_app
from widget_app import db as db_module
from widget_app.models import Agent, Call, db

from .conftest import TEST_SETTINGS


@pytest.fixture
def version_one(database_url, tmp_path):
    """A database as version 1 of the schema left it (no unique engagement id, no roles)."""
    create_app({**TEST_SETTINGS, "DATABASE_URL": database_url, "INSTANCE_PATH": str(tmp_path / "instance")})
    db_module.upgrade(db_module.MIGRATIONS[:1])
    with db.connection_context():
        db.execute_sql("DROP INDEX call_engagement_id")
        for column in ("role", ):
            if column in {c.name for c in db.get_columns("agent")}:
                db.execute_sql(f'ALTER TABLE agent DROP COLUMN "{column}"')
    return database_url


def _call(agent_id, engagement_id):
    return Call.insert(direction="outbound", status="completed", from_number="+442071838750",
                       to_number="+447911123456", agent=agent_id, engagement_id=engagement_id).execute()


def test_upgrade_keeps_an_engagement_on_its_first_call_only_and_then_refuses_a_second(version_one):
    with db.connection_context():
        agent = Agent.insert(email="old@example.com", name="Old", password_hash="x").execute()
        first, second, other = _call(agent, "555"), _call(agent, "555"), _call(agent, "777")
    assert db_module.upgrade() == [version for version, *_ in db_module.MIGRATIONS[1:]]
    with db.connection_context():
        assert [(c.id, c.engagement_id) for c in Call.select().order_by(Call.id)] == [
            (first, "555"), (second, None), (other, "777")]
        with pytest.raises(IntegrityError), db.atomic():
            _call(agent, "777")
