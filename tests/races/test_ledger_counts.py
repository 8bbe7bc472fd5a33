"""The permission ledger under concurrent callbacks: misses of different calls to one contact all count
(the contact's row is locked while it changes), on SQLite and PostgreSQL."""
from tests.helpers import CONTACT_PHONE
from tests.races.conftest import placed_call, post_together, status_form
from widget_app.models import Permission, db


def test_four_calls_missed_at_the_same_moment_count_four_and_revoke(served, slow_database):
    app, address, agent = served
    with db.connection_context():
        Permission.update(permanent=False, status="granted").execute()
    for n in range(4):
        placed_call(agent, parent=f"CA{n:032d}")
    forms = [status_form("no-answer", 2, sid=f"CA{n + 10:032d}", parent=f"CA{n:032d}", CallDuration="0")
             for n in range(4)]
    assert post_together(address, "/twilio/voice/status", forms) == [204] * 4
    with db.connection_context():
        permission = Permission.get(Permission.phone == CONTACT_PHONE)
    assert (permission.consecutive_missed, permission.status) == (4, "revoked")
