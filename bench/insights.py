"""Benchmark (not a test): the admin console's insights page for 90 days over 1,000 calls and over 100,000.

Builds the app in-process on PostgreSQL (or SQLite with --sqlite), signs in an admin, fills the
calls table to 1,000 calls spread over the 90 days (every outcome, two thirds inbound, a permission
request per 20 calls), times GET /admin/insights for the whole 90 days a number of times, then fills
it to 100,000 and times the same page again. Prints both from the same run, side by side, with the
ratio. Aim (issue 18): 100k within 2x of 1k.

The page merges per-day summaries (widget_app/admin/insight_days.py): the untimed warm-up request counts
the 90 days from the calls (~0.3 s at 100k), the timed ones read the summaries. On a 2-core machine,
PostgreSQL 15, p50: 18.6 ms at 1k and 260 ms at 100k (14x) counting the raw calls; 14.5 ms and 22.4 ms
(1.5x) with the summaries. Filling 100k calls takes longer than before (~30 s, was ~12 s): every insert
runs the triggers that mark its day.

    python bench/insights.py [--requests 20] [--sqlite] [--tz Europe/Helsinki]
Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/bench_insights; the
database is created and emptied).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from stack import SETTINGS, reset_database

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)
DAYS = 90
AGENTS = 10
OUTCOMES = [  # (direction, status, answered?) in turn: every outcome of the page
    ("inbound", "completed", True), ("inbound", "completed", True), ("inbound", "no-answer", False),
    ("outbound", "completed", True), ("inbound", "completed", True), ("outbound", "no-answer", False),
    ("inbound", "canceled", False), ("outbound", "failed", False), ("inbound", "completed", True),
    ("outbound", "busy", False)]


def build(database: str):
    """The app, its admin signed in on a test client, and a function that fills the tables to a total."""
    from werkzeug.security import generate_password_hash

    from widget_app import create_app
    from widget_app import db as db_module
    from widget_app.models import Agent, Call, PermissionRequest, db
    workdir = tempfile.mkdtemp(prefix="insights-bench-")
    app = create_app({**SETTINGS, "WIDGET_MODE": "live", "DATABASE_URL": database, "INSTANCE_PATH": workdir,
                      "SYNC_WORKER": False, "TESTING": True,
                      "PUBLIC_BASE_URL": "https://widget.example.com"})
    db_module.upgrade()
    cheap = generate_password_hash("bench", method="pbkdf2:sha256:1")
    with db.connection_context():
        Agent.create(email="admin@example.com", name="Admin", password_hash=cheap, role="admin")
        agents = [Agent.create(email=f"a{i}@example.com", name=f"A{i}", password_hash=cheap).id for i in range(AGENTS)]
    client = app.test_client()
    assert client.post("/admin/signin", data={"email": "admin@example.com", "password": "bench"}).status_code == 302
    start = NOW - timedelta(days=DAYS)
    span = DAYS * 86400

    def fill(total: int):
        with db.connection_context():
            have = Call.select().count()
            for chunk in range(have, total, 5000):
                calls, requests = [], []
                for i in range(chunk, min(total, chunk + 5000)):
                    at = start + timedelta(seconds=(i * 7919) % span)  # spread over every day and hour
                    direction, status, answered = OUTCOMES[i % len(OUTCOMES)]
                    phone = f"+4479111{i % 100000:05d}"
                    calls.append({"direction": direction, "status": status, "started_at": at, "created_at": at,
                                  "from_number": phone if direction == "inbound" else "+442071838750",
                                  "to_number": "+442071838750" if direction == "inbound" else phone,
                                  "agent": agents[i % AGENTS] if answered or direction == "outbound" else None,
                                  "answered_at": at + timedelta(seconds=3 + i % 40) if answered else None,
                                  "duration_seconds": 30 + i % 600 if answered else None,
                                  "called_back_at": at + timedelta(minutes=i % 90) if status == "no-answer" and i % 3 else None})
                    if i % 20 == 0:
                        requests.append({"phone": phone, "kind": "request", "agent": agents[i % AGENTS],
                                         "status": "delivered", "created_at": at - timedelta(hours=1),
                                         "outcome": "accepted" if i % 40 == 0 else None,
                                         "answered_at": at - timedelta(minutes=30) if i % 40 == 0 else None,
                                         "expires_at": at + timedelta(days=3) if i % 40 == 0 else None})
                with db.atomic():
                    Call.insert_many(calls).execute()
                    if requests:
                        PermissionRequest.insert_many(requests).execute()
            db.execute_sql("ANALYZE")
    return client, fill


def time_page(client, url: str, requests: int) -> dict:
    client.get(url)  # warm: templates compiled, plans cached
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(url)
        times.append(1000 * (time.perf_counter() - began))
        assert response.status_code == 200, response.status_code
    times.sort()
    return {"p50": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))], "min": times[0]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20, help="timed requests per table size")
    parser.add_argument("--sqlite", action="store_true", help="SQLite in a temp folder instead of PostgreSQL")
    parser.add_argument("--tz", default="Europe/Helsinki")
    args = parser.parse_args()
    if args.sqlite:
        database = f"sqlite:///{tempfile.mkdtemp(prefix='insights-bench-db-')}/bench.db"
    else:
        database = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/bench_insights")
        reset_database(database)
    client, fill = build(database)
    first, last = (NOW - timedelta(days=DAYS - 1)).date(), NOW.date()
    url = f"/admin/insights?start={first}&end={last}&tz={args.tz}"
    results = {}
    for total in (1_000, 100_000):
        began = time.perf_counter()
        fill(total)
        print(f"  filled {total:,} calls in {time.perf_counter() - began:.1f}s", file=sys.stderr)
        results[total] = time_page(client, url, args.requests)
    print(f"GET {url} ({'SQLite' if args.sqlite else 'PostgreSQL'}), {args.requests} requests per size\n")
    print(f"  {'':<10}{'1,000 calls':>14}{'100,000 calls':>16}{'ratio':>8}")
    for key in ("min", "p50", "p90"):
        small, big = results[1_000][key], results[100_000][key]
        print(f"  {key + ' ms':<10}{small:>14.1f}{big:>16.1f}{big / small:>7.2f}x")
    print(f"\n  p50 at 100k / at 1k: {results[100_000]['p50'] / results[1_000]['p50']:.2f}x (aim: within 2x)")


if __name__ == "__main__":
    main()
