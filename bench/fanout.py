"""Benchmark (not a test): how fast an inbound call reaches the agents' sockets across processes.

Starts the real app under gunicorn (gthread) twice: 2 workers + Redis pub/sub, and 1 worker without
Redis (the floor: in-process delivery). K agents each hold a real WebSocket; N signed inbound
WhatsApp webhooks come in (C at a time, each on a fresh connection so both workers serve them).
Four calls in five come from a contact owned by one of the agents (rings that agent), the fifth from
an unknown number (rings every online agent, at most ten). The ring never waits for HubSpot (issue 16):
owner routing works from the shared contact cache, so each known contact calls once, unmeasured,
before the run (a first call rings like an unknown number's while HubSpot is asked in the background). Whom each webhook rang is read from its
TwiML; delivery latency is "webhook sent" -> "incoming_call read by the agent's socket". Loopback
only: HubSpot's contacts search is a local stub. Aim: 0 lost, p99 under 50 ms at K=200.

    python bench/fanout.py [--agents 200] [--calls 200] [--concurrency 4] [--redis redis://127.0.0.1:6379/15]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import requests
from simple_websocket import Client

from tests.helpers import free_port

SETTINGS = {
    "WIDGET_MODE": "live", "SECRET_KEY": "bench-secret", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "bench-twilio-token", "TWILIO_API_KEY_SID": "SK" + "1" * 32,
    "TWILIO_API_KEY_SECRET": "x", "TWILIO_TWIML_APP_SID": "AP" + "1" * 32,
    "TWILIO_WHATSAPP_NUMBER": "+442071838750", "TWILIO_PERMISSION_CONTENT_SID": "HX" + "1" * 32,
    "HUBSPOT_ACCESS_TOKEN": "bench-hubspot-token", "SYNC_WORKER": "false",
}


def caller(i: int) -> str:
    return f"+4420794{i:05d}"


def hubspot_stub(owners: dict) -> ThreadingHTTPServer:
    """HubSpot's contacts search: caller(i) belongs to owners[caller(i)], other numbers are unknown."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every search

        def do_POST(self):
            server.searches.append(1)
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            values = {f.get("value") for g in body.get("filterGroups", []) for f in g.get("filters", [])}
            hits = [{"id": str(1000 + n), "properties": {"firstname": "Caller", "lastname": str(n), "phone": phone,
                                                         "hubspot_owner_id": owners[phone]}}
                    for n, phone in enumerate(sorted(values & owners.keys()))]
            data = json.dumps({"total": len(hits), "results": hits}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.searches = []  # one item per search answered (list.append is atomic)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Agent:
    """One agent's socket and a reader thread stamping each message as it arrives."""

    def __init__(self, agent_id: int, url: str):
        self.id, self.received, self.ws = agent_id, {}, Client.connect(url)
        self.thread = threading.Thread(target=self.read, daemon=True)
        self.thread.start()

    def read(self):
        while self.ws.connected:
            try:
                data = self.ws.receive(timeout=0.5)
            except Exception:
                return
            if data is not None:
                stamp, message = time.perf_counter(), json.loads(data)
                if message.get("type") == "incoming_call":
                    self.received[message["call"]["sid"]] = stamp


def percentile(values, pct):
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if len(values) > 1 else values[0]


def worker_model(worker_class: str, agents: int) -> list[str]:
    """gthread needs a thread per socket; gevent (the Procfile's) a connection slot per socket."""
    if worker_class == "gthread":
        return ["--worker-class", "gthread", "--threads", str(agents + 50)]
    return ["--worker-class", "gevent", "--worker-connections", str(2 * agents + 100)]


def run(label, args, workers, redis_url, tmp):
    """One configuration: fresh database, gunicorn, K sockets, N webhooks; returns a result row."""
    from widget_app import create_app
    from widget_app import db as db_module
    from widget_app.agents.tickets import issue_ticket
    from widget_app.models import Agent as AgentRow
    from widget_app.models import db
    from widget_app.twilio.signatures import sign

    port = free_port()
    owners = {caller(i): f"owner{i % args.agents}" for i in range(args.calls)}
    stub = hubspot_stub(owners)
    settings = {**SETTINGS, "DATABASE_URL": args.database_url or f"sqlite:///{tmp}/{label[:1]}{port}.db",
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "REDIS_URL": redis_url or "",
                "HUBSPOT_API_BASE": f"http://127.0.0.1:{stub.server_address[1]}"}
    app = create_app({**settings, "INSTANCE_PATH": tmp})
    db_module.upgrade()
    with db.connection_context():
        AgentRow.delete().execute()
        AgentRow.insert_many([{"email": f"a{i}@bench.example", "name": f"Agent {i}", "password_hash": "-",
                               "hubspot_owner_id": f"owner{i}", "available": True}
                              for i in range(args.agents)]).execute()
        rows = list(AgentRow.select().order_by(AgentRow.id))

    env = {**os.environ, **settings}
    channel = {"REALTIME_CHANNEL": f"bench:{uuid.uuid4().hex}"}
    errors = open(os.path.join(tmp, f"gunicorn-{port}.err"), "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", f"widget_app:create_app({channel!r})", *worker_model(args.worker_class, args.agents),
         "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
         "--graceful-timeout", "5", "--no-control-socket"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    agents = []
    try:
        wait_until(lambda: ping(port), 30, "gunicorn did not start")
        with app.test_request_context():  # tickets live seconds: issued just before the sockets open
            tickets = {row.id: issue_ticket(row) for row in rows}
        agents = [Agent(row.id, f"ws://127.0.0.1:{port}/ws?ticket={tickets[row.id]}") for row in rows]
        with db.connection_context():
            wait_until(lambda: AgentRow.select().where(AgentRow.last_seen_at.is_null()).count() == 0, 60,
                       "not every socket registered")

        sent, rung, webhook_ms = {}, {}, []

        def webhook(i, measured=True):
            number = caller(i) if i % 5 else f"+4479460{i:05d}"  # every fifth caller is unknown to HubSpot
            sid = "CA" + uuid.uuid4().hex
            params = {"CallSid": sid, "AccountSid": SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{number}",
                      "To": f"whatsapp:{SETTINGS['TWILIO_WHATSAPP_NUMBER']}", "Caller": f"whatsapp:{number}",
                      "Called": f"whatsapp:{SETTINGS['TWILIO_WHATSAPP_NUMBER']}", "CallStatus": "ringing",
                      "Direction": "inbound", "ApiVersion": "2010-04-01"}
            url = f"http://127.0.0.1:{port}/twilio/voice"
            headers = {"X-Twilio-Signature": sign(url, params, SETTINGS["TWILIO_AUTH_TOKEN"]), "Connection": "close"}
            sent[sid] = time.perf_counter()
            answer = requests.post(url, data=params, headers=headers, timeout=15)
            webhook_ms.append((time.perf_counter() - sent[sid]) * 1000)
            if measured:
                rung[sid] = [int(x) for x in re.findall(r"<Identity>agent_(\d+)</Identity>", answer.text)]

        known = [i for i in range(args.calls) if i % 5]
        with ThreadPoolExecutor(args.concurrency) as pool:  # warm-up: each known contact has called before
            list(pool.map(lambda i: webhook(i, measured=False), known))
        wait_until(lambda: len(stub.searches) >= len(known), 30, "HubSpot's stub was not asked about every contact")
        time.sleep(0.5)  # the look-ups' cache writes follow their searches
        sent.clear()
        webhook_ms.clear()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(webhook, range(args.calls)))
        by_id = {agent.id: agent for agent in agents}
        expected = [(sid, agent_id) for sid, ids in rung.items() for agent_id in ids]
        wait_until(lambda: all(sid in by_id[a].received for sid, a in expected), 5, None)
        latencies = [(by_id[a].received[sid] - sent[sid]) * 1000 for sid, a in expected if sid in by_id[a].received]
        lost = len(expected) - len(latencies)
        return (label, args.agents, args.calls, len(expected), lost, percentile(latencies, 50),
                percentile(latencies, 99), max(latencies), percentile(webhook_ms, 50), percentile(webhook_ms, 99))
    finally:
        for agent in agents:
            agent.ws.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        errors.close()
        stub.shutdown()
        stub.server_close()


def ping(port) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
            return True
    except OSError:
        return False


def wait_until(predicate, seconds, failure):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    if failure:
        raise SystemExit(failure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--redis", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--worker-class", choices=("gevent", "gthread"), default="gevent",
                        help="gevent as the Procfile runs it (psycopg2 made cooperative by wsgi.py's hook)")
    parser.add_argument("--database-url", default=None, help="default: a temp SQLite file per run")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rows.append(run("2 workers + Redis", args, 2, args.redis, tmp))
        rows.append(run("1 worker, no Redis (floor)", args, 1, None, tmp))
    print(f"{'run':28} {'agents':>6} {'calls':>5} {'deliveries':>10} {'lost':>4} "
          f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'hook p50':>8} {'hook p99':>8}")
    for row in rows:
        print(f"{row[0]:28} {row[1]:>6} {row[2]:>5} {row[3]:>10} {row[4]:>4} "
              + " ".join(f"{value:>7.1f}" for value in row[5:8]) + " " + " ".join(f"{v:>8.1f}" for v in row[8:]))


if __name__ == "__main__":
    main()
