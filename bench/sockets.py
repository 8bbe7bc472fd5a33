"""Benchmark (not a test): does the Procfile's deployment still answer HTTP with N agent sockets open?

Runs the Procfile's `release:` and `web:` commands exactly (gunicorn on a free loopback port) against
PostgreSQL and a Redis server of its own, opens N signed-in `/ws` sockets (N = 0, 100, 500, 1000 by
default; each answers the server's pings, as a browser does), and at each N sends the same HTTP load:
`/healthz`, a login, a permission status and a signed Twilio status callback. It prints, beside N=0
from the same run, how many requests were answered (any HTTP status within the timeout; "ok" = 2xx)
and their p50/p99. Aim: 100 % answered at N=1000, p99 within 2x of N=0 (login's scrypt aside).
Everything is bounded (connect and request timeouts, a deadline per step); it stops by itself.

    python bench/sockets.py [--counts 0,100,500,1000] [--requests 40] [--concurrency 4]
                            [--web "gunicorn ..."]   # try another web command instead of the Procfile's
Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/bench_sockets; the
database is created and emptied) and `redis-server` on the PATH.
"""
import argparse
import asyncio
import base64
import concurrent.futures
import json
import os
import resource
import signal
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request

from stack import AUTH_TOKEN, PHONE, SETTINGS, Stack, timed


def seed(env: dict, agents: int) -> dict:
    """Agents (one signs in with a real scrypt hash; the rest get cheap hashes), their tokens, a call."""
    os.environ.update(env)
    # Imported here: the app reads its settings from the environment just set.
    from werkzeug.security import generate_password_hash

    from widget_app import create_app
    from widget_app.agents.accounts import issue_token
    from widget_app.models import Agent, Call, Permission, db
    app = create_app()
    cheap = generate_password_hash("bench", method="pbkdf2:sha256:1")
    with app.test_request_context(), db.connection_context():
        Agent.create(email="login@example.com", name="Login", password_hash=generate_password_hash("correct horse"))
        with db.atomic():
            Agent.insert_many([{"email": f"a{i}@example.com", "name": f"A{i}", "password_hash": cheap}
                               for i in range(agents)]).execute()
        ids = [a.id for a in Agent.select(Agent.id).order_by(Agent.id)]
        tokens = [issue_token(Agent.get_by_id(i)) for i in ids]
        Permission.create(phone=PHONE, status="granted")
        call = Call.create(direction="outbound", status="queued", from_number="+442071838750", to_number=PHONE,
                           agent=ids[0], parent_sid="CA" + "b" * 32)
    return {"tokens": tokens, "call_id": call.id}


class Sockets:
    """N WebSocket clients on one asyncio loop in a thread: upgrade, then answer pings until closed."""

    def __init__(self, port: int):
        self.port, self.open, self.failed, self.closed, self.writers = port, 0, 0, 0, []
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def _ticket(self, token: str, timeout: float) -> str:
        """What the widget does before each socket: trade its token for a single-use ticket."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/realtime/ticket", data=b"",
                                         method="POST", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())["ticket"]

    async def _one(self, token: str, timeout: float):
        ticket = await asyncio.get_running_loop().run_in_executor(None, self._ticket, token, timeout)
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws?ticket={urllib.parse.quote(ticket)} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:60])
        self.writers.append(writer)
        return reader, writer

    async def _serve(self, reader, writer):
        """Read frames; answer a ping with a masked pong, as every browser does."""
        try:
            while True:
                first, second = await reader.readexactly(2)
                length = second & 0x7F
                if length == 126:
                    length = int.from_bytes(await reader.readexactly(2), "big")
                elif length == 127:
                    length = int.from_bytes(await reader.readexactly(8), "big")
                payload = await reader.readexactly(length)
                if first & 0x0F == 0x9:
                    mask = os.urandom(4)
                    writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask +
                                 bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
                elif first & 0x0F == 0x8:
                    self.closed += 1  # the server closed it (a close frame)
                    break
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.closed += 1  # the server closed it
        except asyncio.CancelledError:
            pass
        self.open -= 1

    async def _open(self, tokens: list[str], timeout: float, parallel: int, budget: float):
        gate, deadline = asyncio.Semaphore(parallel), time.monotonic() + budget

        async def one(token):
            async with gate:
                if time.monotonic() > deadline:  # the server stopped accepting: do not wait for each
                    self.failed += 1
                    return
                try:
                    reader, writer = await self._one(token, timeout)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    self.failed += 1
                    return
                self.open += 1
                asyncio.ensure_future(self._serve(reader, writer))
        await asyncio.gather(*(one(t) for t in tokens))

    def open_more(self, tokens: list[str], timeout: float = 10.0, parallel: int = 25, budget: float = 60.0):
        """Open a socket per token, ``parallel`` handshakes at a time, for at most ``budget`` (+ one timeout) s."""
        before = self.open + self.failed + self.closed
        future = asyncio.run_coroutine_threadsafe(self._open(tokens, timeout, parallel, budget), self.loop)
        try:
            future.result(timeout=budget + 3 * timeout)  # a ticket and a handshake, each within ``timeout``
        except concurrent.futures.TimeoutError:  # a server that stopped answering: the rest failed to open
            future.cancel()
            self.failed += max(0, len(tokens) - (self.open + self.failed + self.closed - before))

    async def _close(self):
        for writer in self.writers:
            writer.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self):
        asyncio.run_coroutine_threadsafe(self._close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)


def requests_for(base: str, token: str, call_id: int, count: int):
    """The four request kinds, each ``count`` times, as (kind, factory of a fresh Request)."""
    from widget_app.twilio.signatures import sign  # here: after seed() set the environment
    seq = iter(range(1, 10**9))

    def status_callback():
        form = {"CallSid": "CA" + "w" * 32, "ParentCallSid": "CA" + "b" * 32, "CallStatus": "ringing",
                "SequenceNumber": str(next(seq)), "AccountSid": SETTINGS["TWILIO_ACCOUNT_SID"]}
        signature = sign(base + "/twilio/voice/status", form, AUTH_TOKEN)
        return urllib.request.Request(base + "/twilio/voice/status", data=urllib.parse.urlencode(form).encode(),
                                      headers={"X-Twilio-Signature": signature})
    kinds = {
        "healthz": lambda: urllib.request.Request(base + "/healthz"),
        "login": lambda: urllib.request.Request(
            base + "/api/auth/login", data=json.dumps({"email": "login@example.com", "password": "correct horse"}).encode(),
            headers={"Content-Type": "application/json"}),
        "permission status": lambda: urllib.request.Request(
            base + f"/api/permissions/status/{urllib.parse.quote(PHONE)}", headers={"Authorization": f"Bearer {token}"}),
        "status callback": status_callback,
    }
    return kinds


def measure(kinds: dict, count: int, concurrency: int, timeout: float, budget: float) -> dict:
    """Per kind: answered share, ok share, p50 and p99 in ms (of the answered requests). A kind gets
    ``budget`` seconds: what it has not sent by then counts as unanswered (a stalled server ends fast)."""
    results = {}
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        for kind, make in kinds.items():
            # Logins one at a time: the limiter (issue 16 item 7, not ours) would turn parallel ones into 429s.
            width, outcomes = (1 if kind == "login" else concurrency), []
            deadline = time.monotonic() + budget
            for start in range(0, count, width):
                if time.monotonic() > deadline:
                    break
                batch = [make() for _ in range(start, min(count, start + width))]
                outcomes += list(pool.map(lambda request: timed(request, timeout), batch))
            answered = sorted(t for status, t in outcomes if status is not None)
            ok = sum(1 for status, _ in outcomes if status is not None and status < 300)
            results[kind] = {"answered": len(answered) / count, "ok": ok / count,
                             "p50": 1000 * statistics.median(answered) if answered else None,
                             "p99": 1000 * answered[min(len(answered) - 1, int(0.99 * len(answered)))]
                             if answered else None}
    return results


def fmt(value, unit=""):
    return "    —" if value is None else f"{value:>5.0f}{unit}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="0,100,500,1000")
    parser.add_argument("--requests", type=int, default=40, help="requests of each kind at each N")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds before a request counts as unanswered")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per request kind at each N")
    parser.add_argument("--web", default=None, help="a web command to try instead of the Procfile's")
    args = parser.parse_args()
    counts = [int(n) for n in args.counts.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # still stop gunicorn and Redis
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, max(counts) * 3 + 1024)), hard))

    with Stack("sockets", args.web) as stack:
        seeded = seed(stack.env, max(counts))
        errors_path = os.path.join(stack.workdir, "web.err")
        with open(errors_path, "w") as errors:
            stack.start_web(errors)
            sockets, rows = Sockets(stack.port), []
            kinds = requests_for(stack.base, seeded["tokens"][0], seeded["call_id"], args.requests)
            try:
                opened = 0
                for n in counts:
                    sockets.open_more(seeded["tokens"][1 + opened:1 + n])
                    opened = max(opened, n)
                    time.sleep(2)  # let the workers settle (heartbeats, Redis subscriptions)
                    rows.append((n, sockets.open,
                                 measure(kinds, args.requests, args.concurrency, args.timeout, args.budget)))
                    print(f"  N={n}: {sockets.open} sockets open ({sockets.failed} failed to open, "
                          f"{sockets.closed} closed by the server)", file=sys.stderr)
            finally:
                sockets.close()
    command, database = stack.command, stack.database

    with open(errors_path) as fh:
        logged = fh.read()
    print(f"web: {command}")
    print(f"database: {database.split('@')[-1]}; sockets that failed to open: {sockets.failed}, closed by the "
          f"server: {sockets.closed}; server log: {logged.count('Traceback')} tracebacks, "
          f"{logged.count('too many clients')} 'too many clients'")
    print(f"{args.requests} requests of each kind per N, {args.concurrency} at a time (logins one at a time), "
          f"{args.timeout:.0f} s timeout; PostgreSQL + Redis\n")
    print(f"  {'N':>5} {'open':>5}  {'request':<18}{'answered':>9}{'ok':>6}{'p50 ms':>8}{'p99 ms':>8}{'p99/N=0':>9}")
    baseline = rows[0][2]
    for n, still_open, results in rows:
        for kind, r in results.items():
            ratio = (r["p99"] / baseline[kind]["p99"]) if r["p99"] and baseline[kind]["p99"] else None
            print(f"  {n:>5} {still_open:>5}  {kind:<18}{r['answered']:>8.0%}{r['ok']:>6.0%}"
                  f"{fmt(r['p50']):>8}{fmt(r['p99']):>8}{'' if ratio is None else f'{ratio:8.1f}x'}")
    print("\n  aim: 100 % answered at N=1000, p99 within 2x of N=0 (login's hash aside)")


if __name__ == "__main__":
    main()
