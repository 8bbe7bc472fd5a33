"""Bounded database connections: each process opens at most DATABASE_POOL_MAX PostgreSQL connections,
however many requests run at once; a request that cannot get one in time answers 503, not 500.
SQLite commits without an fsync of its own (WAL, synchronous=NORMAL), so two commits per inbound call stay cheap."""
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import requests

from tests.helpers import TWILIO_API
from widget_app.agents.accounts import issue_token
from widget_app.models import Agent, Call

BROWSER_LEG = "CA" + "b" * 32
HANG_UP_URL = f"{TWILIO_API}/Calls/{BROWSER_LEG}.json"



def server_connections(url: str, application_name: str) -> int:
    """How many connections PostgreSQL holds open for one application name."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (application_name,))
        count = cursor.fetchone()[0]
    conn.close()
    return count


def pooled_app(make_app, postgres_url, **settings):
    """The app on PostgreSQL under a unique application name, so the server can count its connections."""
    name = "pool" + uuid.uuid4().hex[:12]
    return make_app(DATABASE_URL=f"{postgres_url}?application_name={name}", **settings), name


def test_concurrent_requests_never_open_more_connections_than_the_pool_maximum(
        make_app, postgres_url, serve_app, http_mock):
    app, name = pooled_app(make_app, postgres_url, DATABASE_POOL_MAX=3)
    with app.app_context():
        agent = Agent.create(email="ana@example.com", name="Ana", password_hash="-")
        call = Call.create(direction="outbound", status="in-progress", from_number="+442071838750",
                           to_number="+447911123456", agent=agent, parent_sid=BROWSER_LEG)
        with app.test_request_context():
            token = issue_token(agent)
    seen = []

    def slow_twilio(request):  # runs inside a request that holds its database connection
        seen.append(server_connections(postgres_url, name))
        time.sleep(0.2)
        return 200, {"Content-Type": "application/json"}, json.dumps({"sid": BROWSER_LEG, "status": "completed"})

    http_mock.add_callback("POST", HANG_UP_URL, callback=slow_twilio)
    http_mock.add_passthru("http://127.0.0.1")
    address = serve_app(app)

    def end(_):
        return requests.post(f"http://{address}/api/calls/end", json={"call_id": call.id}, timeout=30,
                             headers={"Authorization": f"Bearer {token}"}).status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(end, range(12)))
    assert statuses == [200] * 12
    assert len(seen) == 12 and max(seen) <= 3, seen


def test_a_request_that_cannot_get_a_connection_in_time_answers_503(make_app, postgres_url):
    app, _ = pooled_app(make_app, postgres_url, DATABASE_POOL_MAX=1, DATABASE_POOL_TIMEOUT=1)
    database = app.extensions["database"]
    held, release = threading.Event(), threading.Event()

    def hold_the_only_connection():
        with database.connection_context():
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_only_connection)
    holder.start()
    try:
        assert held.wait(10)
        response = app.test_client().get("/api/calls")
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_busy"


def test_the_pool_settings_are_whole_numbers_from_the_environment(make_app, postgres_url):
    app, _ = pooled_app(make_app, postgres_url, DATABASE_POOL_MAX="7", DATABASE_POOL_TIMEOUT="4")
    assert app.config["DATABASE_POOL_MAX"] == 7 and app.config["DATABASE_POOL_TIMEOUT"] == 4


def test_sqlite_in_wal_mode_commits_without_an_fsync_per_transaction(app, db):
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def last_statement(url: str, application_name: str) -> str:
    """What the one pooled connection of an application name ran last, as PostgreSQL reports it."""
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE application_name = %s", (application_name,))
        rows = cursor.fetchall()
    conn.close()
    assert len(rows) == 1, rows
    return rows[0][0]


def use_a_connection(database, statement: str):
    with database.connection_context():
        database.execute_sql(statement)


def test_a_connection_checked_in_moments_ago_is_handed_out_again_without_a_ping(make_app, postgres_url):
    app, name = pooled_app(make_app, postgres_url)
    database = app.extensions["database"]
    use_a_connection(database, "SELECT 'the request before'")
    with database.connection_context():  # the next request takes it straight back: no SELECT 1 round trip
        pass
    assert last_statement(postgres_url, name) == "SELECT 'the request before'"


def test_a_connection_idle_in_the_pool_is_pinged_before_it_is_handed_out(make_app, postgres_url, monkeypatch):
    app, name = pooled_app(make_app, postgres_url)
    database = app.extensions["database"]
    use_a_connection(database, "SELECT 'the request before'")
    monkeypatch.setattr("widget_app.db.PING_AFTER_IDLE_SECONDS", 0)  # it has been idle longer than that
    with database.connection_context():
        pass
    assert last_statement(postgres_url, name) == "SELECT 1"


def test_a_request_that_runs_no_statement_does_not_keep_its_connection_from_being_pinged(
        make_app, postgres_url, monkeypatch):
    app, name = pooled_app(make_app, postgres_url)
    database = app.extensions["database"]
    clock = [1000.0]
    monkeypatch.setattr("widget_app.db.monotonic", lambda: clock[0])
    use_a_connection(database, "SELECT 'the last answer'")
    for clock[0] in (1000.5, 1000.9, 1001.3):  # e.g. unsigned webhooks refused before any query, every 0.4 s
        with database.connection_context():
            pass
    assert last_statement(postgres_url, name) == "SELECT 1"  # 1.3 s after the last answer: pinged


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_a_request_uses_it(
        make_app, postgres_url, monkeypatch):
    app, name = pooled_app(make_app, postgres_url)
    with app.app_context():
        agent = Agent.create(email="ana@example.com", name="Ana", password_hash="-")
        with app.test_request_context():
            token = issue_token(agent)
    client = app.test_client()
    assert client.get("/api/calls", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:  # e.g. a database restart
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,))
    conn.close()
    monkeypatch.setattr("widget_app.db.PING_AFTER_IDLE_SECONDS", 0)
    assert client.get("/api/calls", headers={"Authorization": f"Bearer {token}"}).status_code == 200
