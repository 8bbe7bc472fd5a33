"""Every list query is read in its ORDER BY's order straight from an index: no sort step, so a page of
history costs the same at 100k calls as at 1k (issue 16, item 3). The queries are the ones the real
code runs (captured from peewee's log), explained by the database itself, on SQLite and PostgreSQL."""
import logging
from datetime import timedelta

import pytest

from tests.helpers import CONTACT_PHONE
from widget_app import db as db_module
from widget_app.agents.accounts import issue_token
from widget_app.calls import inbound
from widget_app.core.clock import utcnow
from widget_app.hubspot import outbox
from widget_app.models import Agent, Call, CallRing, EngagementSync, PermissionRequest, db
from widget_app.permissions import ledger, messages


class QueryLog(logging.Handler):
    """Collects the (sql, params) peewee logs for every statement it runs."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.queries = []

    def emit(self, record):
        if isinstance(record.msg, tuple) and len(record.msg) == 2:
            self.queries.append(record.msg)


@pytest.fixture
def ordered_queries():
    """``capture(fn)``: run fn and return every SELECT with an ORDER BY it sent to the database."""
    def capture(fn):
        handler, logger = QueryLog(), logging.getLogger("peewee")
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        try:
            fn()
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        return [(sql, params) for sql, params in handler.queries
                if sql.lstrip().upper().startswith("SELECT") and "ORDER BY" in sql.upper()]
    return capture


def wasted_steps(sql: str, params) -> list[str]:
    """The plan's sorts and scans: none means an index is searched and hands rows over in ORDER BY order."""
    if isinstance(db.obj, db_module.SqliteDatabase):
        plan = [row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
        return [step for step in plan if "TEMP B-TREE" in step or step.startswith("SCAN")]
    with db.atomic():
        # Forbid the planner's cheap shortcuts on a small table: a sort then appears only if no index fits.
        db.execute_sql("SET LOCAL enable_sort = off")
        db.execute_sql("SET LOCAL enable_seqscan = off")
        plan = [row[0] for row in db.execute_sql("EXPLAIN " + sql, params).fetchall()]
    nodes = []  # each plan node: its head line and the detail lines under it
    for line in plan:
        if "->" in line or not nodes:
            nodes.append([line])
        else:
            nodes[-1].append(line)
    # A scan without an index condition reads the whole table or index (a primary key backwards, say).
    return [node[0] for node in nodes if "Sort" in node[0]
            or ("Scan" in node[0] and not any("Index Cond" in line or "Recheck Cond" in line for line in node))]


@pytest.fixture
def busy_app(make_app, database_url):
    """An app on either database with a few agents, calls, rings, requests and outbox rows."""
    app = make_app(DATABASE_URL=database_url)
    db.connect(reuse_if_open=True)
    now = utcnow()
    agents = [Agent.create(email=f"a{i}@example.com", name=f"A{i}", password_hash="x", available=True,
                           last_seen_at=now, hubspot_owner_id=str(i)) for i in range(3)]
    for i in range(30):
        call = Call.create(direction="inbound" if i % 3 == 0 else "outbound", status="ringing" if i % 5 == 0
                           else "completed", from_number=CONTACT_PHONE, to_number="+442071838750",
                           agent=agents[i % 3], started_at=now - timedelta(seconds=i))
        CallRing.create(call=call, agent=agents[i % 3])
        EngagementSync.create(call=call, payload={"n": i}, next_attempt_at=now - timedelta(seconds=i))
        PermissionRequest.create(phone=CONTACT_PHONE, kind="request", message_sid=f"SM{i}", status="delivered",
                                 created_at=now - timedelta(hours=i))
    if not isinstance(db.obj, db_module.SqliteDatabase):
        db.execute_sql("ANALYZE")
    yield app, agents
    db.close()


def check(ordered_queries, fn, at_least=1):
    """Run fn; every ordered query it sends must search an index that yields its rows in order."""
    queries = ordered_queries(fn)
    assert len(queries) >= at_least, "the code path ran no ordered query: the test checks nothing"
    for sql, params in queries:
        assert wasted_steps(sql, params) == [], sql


def test_history_pages_come_in_order_from_an_index(busy_app, ordered_queries):
    app, agents = busy_app
    client = app.test_client()
    with app.test_request_context():
        headers = {"Authorization": f"Bearer {issue_token(agents[0])}"}

    def browse():
        first = client.get("/api/calls?limit=3", headers=headers).get_json()["calls"]
        client.get(f"/api/calls?limit=3&before={first[-1]['id']}", headers=headers)
    check(ordered_queries, browse, at_least=2)


def test_the_latest_permission_request_comes_from_an_index(busy_app, ordered_queries):
    app, _ = busy_app
    with app.app_context():
        check(ordered_queries, lambda: ledger.latest_request(CONTACT_PHONE, sent_only=True))
        check(ordered_queries, lambda: messages._open_request(CONTACT_PHONE, None, utcnow()))


def test_choosing_who_rings_reads_agents_in_order_from_an_index(busy_app, ordered_queries):
    app, agents = busy_app
    with app.app_context():
        check(ordered_queries, lambda: inbound.choose_agents({"owner_id": "1"}), at_least=1)
        check(ordered_queries, lambda: inbound.choose_agents(None))


def test_a_ring_reads_its_agents_and_calls_in_order_from_an_index(busy_app, ordered_queries):
    app, agents = busy_app
    with app.app_context():
        call = Call.get(Call.direction == "inbound")
        check(ordered_queries, lambda: inbound._rung_agents(call))
        check(ordered_queries, lambda: inbound.ringing_for(agents[0]))


def test_the_outbox_takes_its_next_row_in_order_from_an_index(busy_app, ordered_queries):
    app, _ = busy_app
    with app.app_context():
        check(ordered_queries, outbox.claim_next)


def test_upgrading_an_older_database_adds_the_list_indexes_and_keeps_rows(busy_app, ordered_queries):
    app, agents = busy_app
    names = [name for table in ("agent", "call", "call_ring", "permission_request")
             for name in (i.name for i in db.get_indexes(table))
             if name in ("agent_active_available_last_seen_at_id", "call_agent_id_id", "call_direction_status_started_at",
                         "call_ring_call_id_id", "permission_request_phone_kind_created_at_id")]
    assert len(names) == 5
    for name in names:  # the database as version 1 left it
        db.execute_sql(f'DROP INDEX "{name}"')
    db_module.SchemaVersion.delete().where(db_module.SchemaVersion.version > 1).execute()
    db.close()

    assert 8 in db_module.upgrade()
    db.connect(reuse_if_open=True)
    assert Call.select().count() == 30
    test_history_pages_come_in_order_from_an_index(busy_app, ordered_queries)
