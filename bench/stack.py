"""The benchmarks' deployment (not a benchmark): the Procfile's `release:` and `web:` commands, run
exactly, on a free loopback port, against PostgreSQL (a bench database, created and emptied) and a
Redis server of their own. bench/sockets.py and bench/api.py measure against it:

    with Stack("api", web=None, env={"MAX_CONNECTED_CALLS_PER_DAY": "1000000"}) as stack:
        seed(stack.env)          # rows the bench needs, written before the web command starts
        stack.start_web()        # gunicorn as the platform runs it, answering /healthz
        ...                      # requests to stack.base
    # gunicorn and Redis are stopped, whatever happened

Needs PostgreSQL (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/bench_<name>)
and `redis-server` on the PATH.
"""
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
AUTH_TOKEN = "bench-twilio-auth-token"
PHONE = "+447911123456"
SETTINGS = {
    "WIDGET_MODE": "live", "SECRET_KEY": "bench-secret-key", "SYNC_WORKER": "false",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_KEY_SID": "SK" + "1" * 32,
    "TWILIO_API_KEY_SECRET": "bench-api-key-secret-00000000000", "TWILIO_TWIML_APP_SID": "AP" + "1" * 32,
    "TWILIO_WHATSAPP_NUMBER": "+442071838750", "TWILIO_PERMISSION_CONTENT_SID": "HX" + "1" * 32,
    "HUBSPOT_ACCESS_TOKEN": "bench-hubspot-token", "HUBSPOT_API_BASE": "http://127.0.0.1:9",  # never called
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile(kind: str) -> str:
    with open(os.path.join(ROOT, "Procfile")) as fh:
        return next(line.split(":", 1)[1].strip() for line in fh if line.startswith(kind + ":"))


def reset_database(url: str):
    """Create the bench database if needed and empty it (``postgresql+pool://...?max_connections=``
    URLs, peewee's pool, are accepted: the pool is a setting of the app, not of the database)."""
    import psycopg2  # here: only this step talks to PostgreSQL directly
    parsed = urllib.parse.urlparse(url)
    url = urllib.parse.urlunparse(parsed._replace(scheme="postgresql", query=""))
    admin = psycopg2.connect(url.replace(parsed.path, "/postgres"))
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.path.lstrip("/"),))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{parsed.path.lstrip("/")}"')
    admin.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    conn.close()


def timed(request: urllib.request.Request, timeout: float) -> tuple[int | None, float]:
    """(HTTP status or None when nothing came back in time, seconds)."""
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status, time.perf_counter() - start
    except urllib.error.HTTPError as err:
        return err.code, time.perf_counter() - start
    except OSError:
        return None, time.perf_counter() - start


def start_redis(workdir: str) -> tuple[subprocess.Popen, str]:
    """A Redis of our own: nobody else's pub/sub channel hears our events."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return process, f"redis://127.0.0.1:{port}/0"


def start_web(command: str, env: dict, port: int, errors, timeout: float = 30.0) -> subprocess.Popen:
    """The web command as the platform runs it, bound to loopback; its stderr goes to ``errors``."""
    argv = shlex.split(command.replace("0.0.0.0:$PORT", "127.0.0.1:$PORT").replace("$PORT", str(port)))
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the web command exited with {process.returncode}: {command}")
        if timed(urllib.request.Request(f"http://127.0.0.1:{port}/healthz"), 1)[0] == 200:
            return process
        time.sleep(0.2)
    process.kill()
    sys.exit("the web command did not answer /healthz in time")


class Stack:
    """The Procfile's deployment on loopback with PostgreSQL and its own Redis; a context manager that
    empties the database, starts Redis and runs `release:` on entry, and stops everything on exit."""

    def __init__(self, name: str, web: str | None = None, env: dict | None = None):
        self.command = web or procfile("web")
        self.workdir = tempfile.mkdtemp(prefix=f"{name}-bench-")
        self.database = os.environ.get("BENCH_DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/bench_{name}")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env, self.env, self.redis, self.web = dict(env or {}), None, None, None

    def __enter__(self):
        reset_database(self.database)
        self.redis, redis_url = start_redis(self.workdir)
        self.env = {**os.environ, **SETTINGS, "DATABASE_URL": self.database, "REDIS_URL": redis_url,
                    "PUBLIC_BASE_URL": self.base, "PORT": str(self.port), **self.extra_env,
                    # the Procfile's `flask` and `gunicorn` are this interpreter's (`.venv/bin/python bench/...`)
                    "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
        try:
            subprocess.run(shlex.split(procfile("release")), cwd=ROOT, env=self.env, check=True, timeout=120,
                           stdout=subprocess.DEVNULL)
        except BaseException:
            self.stop()
            raise
        return self

    def start_web(self, errors=subprocess.DEVNULL) -> subprocess.Popen:
        """Start `web:` (after the bench has seeded its rows); returns once it answers /healthz."""
        self.web = start_web(self.command, self.env, self.port, errors)
        return self.web

    def stop(self):
        if self.web is not None:
            self.web.terminate()
            try:
                self.web.wait(timeout=35)
            except subprocess.TimeoutExpired:
                self.web.kill()
        if self.redis is not None:
            self.redis.terminate()
            self.redis.wait(timeout=10)

    def __exit__(self, *exc):
        self.stop()
        return False
