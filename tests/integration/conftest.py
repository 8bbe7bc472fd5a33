"""Integration tests: the real app under gunicorn (several processes), real Redis, and HubSpot's
contacts search served on a loopback port where `responses` cannot reach."""
import json
import os
import time

import pytest

from tests.helpers import free_port, running_in_thread


class Gunicorn:
    """A gunicorn started by a test: its address, settings and access log (with worker pids)."""

    def __init__(self, process, port, env, access_log):
        self.process, self.port, self.env, self.access_log = process, port, env, access_log
        self.address = f"127.0.0.1:{port}"
        self.base_url = f"http://{self.address}"

    def access_lines(self) -> list[str]:
        with open(self.access_log) as fh:
            return fh.read().splitlines()


@pytest.fixture
def gunicorn(tmp_path):
    """Start the real app under gunicorn (gthread) on a loopback port; settings come from the environment.

    ``start(settings, workers=2, factory_config=None)``; prepare the database first (``make_app``
    with the same DATABASE_URL upgrades it). The access log
    lines read ``<pid> <X-Test-Seq header> "<request line>" <status>`` (gunicorn writes ``<pid>``).
    """
    import subprocess
    import sys
    import urllib.request

    started = []

    def start(settings: dict, workers: int = 2, threads: int = 20, factory_config: dict | None = None):
        port = free_port()
        env = {**os.environ, **{k: str(v) for k, v in settings.items()},
               "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        access_log = tmp_path / f"access-{port}.log"
        access_log.touch()
        target = f"widget_app:create_app({factory_config!r})" if factory_config else "wsgi:app"
        errors = open(tmp_path / f"gunicorn-{port}.err", "w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", target, "--worker-class", "gthread", "--workers", str(workers),
             "--threads", str(threads), "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5", "--no-control-socket",
             "--access-logfile", str(access_log),
             "--access-logformat", '%(p)s %({x-test-seq}i)s "%(r)s" %(s)s'],
            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        started.append((process, errors))
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / f"gunicorn-{port}.err").read_text()[-3000:])
                time.sleep(0.1)
        return Gunicorn(process, port, env, str(access_log))

    yield start
    for process, errors in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        errors.close()


@pytest.fixture
def hubspot_stub():
    """HubSpot's contacts search on a loopback port (for servers in other processes, where
    `responses` cannot reach): ``contacts`` maps an E.164 number to (contact id, owner id)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    contacts = {}

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # else delayed ACKs add 40 ms to every search

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            values = {f.get("value") for g in body.get("filterGroups", []) for f in g.get("filters", [])}
            found = [{"id": cid, "archived": False, "createdAt": "2026-01-01T00:00:00.000Z",
                      "updatedAt": "2026-01-01T00:00:00.000Z",
                      "properties": {"firstname": "Caller", "lastname": cid, "phone": phone, "hubspot_owner_id": owner}}
                     for phone, (cid, owner) in contacts.items() if phone in values]
            data = json.dumps({"total": len(found), "results": found}).encode()
            status = 200 if self.path == "/crm/objects/2026-03/contacts/search" else 404
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    with running_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as server:
        server.contacts = contacts
        server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        yield server
