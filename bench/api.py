"""Benchmark (not a test): requests/s and p99 of the hot API paths on the Procfile's deployment.

Runs the Procfile's `release:` and `web:` commands (gunicorn on a free loopback port) against
PostgreSQL and a Redis server of its own, and measures permission status, initiate, a signed status
callback and a page of history at concurrency 1, 10 and 50, first with 1,000 calls in the table and
then with 100,000 (the history's agent owns a tenth of them). Each cell sends a fixed number of
requests; it prints requests/s, p50 and p99, and the history's p99 at 100k beside 1k from the same
run. Aim: history at 100k within 1.2x of 1k; each path 2x the requests/s of the code before issue 16.

    python bench/api.py [--requests 300] [--concurrency 1,10,50] [--web "gunicorn ..."]
Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/bench_api; the
database is created and emptied) and `redis-server` on the PATH.
"""
import argparse
import concurrent.futures
import itertools
import json
import os
import signal
import statistics
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

from stack import AUTH_TOKEN, PHONE, SETTINGS, Stack, timed

AGENTS = 10
# Initiate and permission status go to a different contact each time, as agents working through their lists
# do: one contact's calls are reserved against Meta's caps one at a time (issue 13), and calls to it that
# never progress (no Twilio here) would pile up in what each request reads.
CONTACTS = [f"+447911{200000 + n:06d}" for n in range(4000)]


def seed(env: dict):
    """Agents, a granted permission, and the app's handles to add calls later."""
    os.environ.update(env)
    # Imported here: the app reads its settings from the environment just set.
    from werkzeug.security import generate_password_hash

    from widget_app import create_app
    from widget_app.agents.accounts import issue_token
    from widget_app.models import Agent, Call, Permission, db
    app = create_app()
    cheap = generate_password_hash("bench", method="pbkdf2:sha256:1")
    with app.test_request_context(), db.connection_context():
        agents = [Agent.create(email=f"a{i}@example.com", name=f"A{i}", password_hash=cheap) for i in range(AGENTS)]
        Permission.insert_many([{"phone": phone, "status": "granted", "granted_at": datetime.now(UTC),
                                 "expires_at": datetime.now(UTC) + timedelta(days=3)}
                                for phone in [PHONE] + CONTACTS]).execute()
        token = issue_token(agents[0])
        call = Call.create(direction="outbound", status="queued", from_number="+442071838750", to_number=PHONE,
                           agent=agents[0], parent_sid="CA" + "b" * 32)

    def fill_calls(total: int):
        """Add finished calls until the table holds ``total``, spread over the agents (agent 1 has a tenth)."""
        with app.app_context(), db.connection_context():
            have = Call.select().count()
            start = datetime(2025, 1, 1, tzinfo=UTC)
            for chunk in range(have, total, 5000):
                rows = [{"direction": "outbound", "status": "completed", "from_number": "+442071838750",
                         "to_number": f"+4479111{i % 100000:05d}", "agent": agents[i % AGENTS].id,
                         "started_at": start + timedelta(minutes=i), "duration_seconds": 60}
                        for i in range(chunk, min(total, chunk + 5000))]
                with db.atomic():
                    Call.insert_many(rows).execute()
            db.execute_sql("ANALYZE")
    return token, call.id, fill_calls


def kinds(base: str, token: str, call_id: int) -> dict:
    """Each path as a factory of a fresh request."""
    from widget_app.twilio.signatures import sign  # here: after seed() set the environment
    auth = {"Authorization": f"Bearer {token}"}
    seq = itertools.count(1)
    asked, called = itertools.cycle(CONTACTS), itertools.cycle(CONTACTS)

    def status_callback():
        form = {"CallSid": "CA" + "w" * 32, "ParentCallSid": "CA" + "b" * 32, "CallStatus": "ringing",
                "SequenceNumber": str(next(seq)), "AccountSid": SETTINGS["TWILIO_ACCOUNT_SID"]}
        return urllib.request.Request(base + "/twilio/voice/status", data=urllib.parse.urlencode(form).encode(),
                                      headers={"X-Twilio-Signature": sign(base + "/twilio/voice/status", form,
                                                                          AUTH_TOKEN)})
    return {
        "permission status": lambda: urllib.request.Request(
            base + f"/api/permissions/status/{urllib.parse.quote(next(asked))}", headers=auth),
        "initiate": lambda: urllib.request.Request(
            base + "/api/calls/initiate", data=json.dumps({"phone": next(called)}).encode(),
            headers={**auth, "Content-Type": "application/json"}),
        "status callback": status_callback,
        "history": lambda: urllib.request.Request(base + "/api/calls?limit=20", headers=auth),
    }


def run(make, requests: int, concurrency: int, timeout: float = 10.0) -> dict:
    """requests/s over the whole batch, p50/p99 in ms, and how many were not 2xx."""
    batch = [make() for _ in range(requests)]
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        outcomes = list(pool.map(lambda request: timed(request, timeout), batch))
    elapsed = time.perf_counter() - start
    times = sorted(t for _, t in outcomes)
    return {"rps": requests / elapsed, "p50": 1000 * statistics.median(times),
            "p99": 1000 * times[min(len(times) - 1, int(0.99 * len(times)))],
            "errors": sum(1 for status, _ in outcomes if status is None or status >= 300)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per path, concurrency and table size")
    parser.add_argument("--concurrency", default="1,10,50")
    parser.add_argument("--web", default=None, help="a web command to try instead of the Procfile's")
    parser.add_argument("--paths", default=None, help="only these paths, comma-separated (e.g. initiate,history)")
    parser.add_argument("--sizes", default="1000,100000", help="table sizes, in calls")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # still stop gunicorn and Redis
    rows = []
    with Stack("api", args.web, {"MAX_CONNECTED_CALLS_PER_DAY": "1000000"}) as stack:
        token, call_id, fill_calls = seed(stack.env)
        stack.start_web()
        paths = kinds(stack.base, token, call_id)
        if args.paths:
            paths = {name: paths[name] for name in args.paths.split(",")}
        for total in (int(size) for size in args.sizes.split(",")):
            fill_calls(total)
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                for name, make in paths.items():
                    rows.append((total, concurrency, name, run(make, args.requests, concurrency)))
                    print(f"  {total:>7,} calls, c={concurrency:<3} {name}: {rows[-1][3]['rps']:.0f}/s",
                          file=sys.stderr)
    command = stack.command

    print(f"web: {command}")
    print(f"{args.requests} requests per cell; PostgreSQL + Redis; initiate grows the table as it goes; each request a contact of its own\n")
    print(f"  {'calls':>7} {'c':>3}  {'path':<18}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}")
    for total, concurrency, name, r in rows:
        print(f"  {total:>7,} {concurrency:>3}  {name:<18}{r['rps']:>8.0f}{r['p50']:>8.1f}{r['p99']:>8.1f}{r['errors']:>7}")
    history = {(total, c): r for total, c, name, r in rows if name == "history"}
    if any(total == 100_000 for total, _ in history) and any(total == 1_000 for total, _ in history):
        print("\n  history p99 at 100k / at 1k (aim: within 1.2x): " + ", ".join(
            f"c={c}: {history[(100_000, c)]['p99'] / history[(1_000, c)]['p99']:.2f}x"
            for total, c in history if total == 1_000))


if __name__ == "__main__":
    main()
