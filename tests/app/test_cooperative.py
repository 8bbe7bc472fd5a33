"""The Procfile runs gevent workers (issue 16, item 1): one OS thread per process serves every socket and
request, so nothing may hold it: the scrypt hash runs in a real thread, psycopg2 yields on I/O.
Each check runs in a fresh, monkey-patched interpreter, as gunicorn's gevent worker is."""
import subprocess
import sys
import textwrap

from tests.helpers import TEST_SETTINGS

TICKS = """
from gevent import monkey
monkey.patch_all()
import gevent
from werkzeug.security import check_password_hash, generate_password_hash
from widget_app.core.blocking import run_blocking

stored = generate_password_hash("correct horse")  # scrypt
ticks = []

def ticker():
    while True:
        ticks.append(1)
        gevent.sleep(0.001)

gevent.spawn(ticker)
gevent.sleep(0.01)
before = len(ticks)
assert {call}(check_password_hash, stored, "correct horse")
print(len(ticks) - before)
"""


def ticks_during_a_hash(call: str) -> int:
    """How often another greenlet ran while a login checked its scrypt hash."""
    script = TICKS.replace("{call}", call)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    return int(done.stdout.strip())


def test_the_password_hash_leaves_the_event_loop_free_under_gevent():
    assert ticks_during_a_hash("run_blocking") > 0
    assert ticks_during_a_hash("(lambda fn, *args: fn(*args))") == 0, "a plain call holds the loop (the control)"


def test_psycopg2_waits_cooperatively_in_an_app_built_under_gevent(tmp_path):
    script = textwrap.dedent(f"""
        from gevent import monkey
        monkey.patch_all()
        import psycopg2.extensions
        from widget_app import create_app
        assert psycopg2.extensions.get_wait_callback() is None
        create_app({{**{TEST_SETTINGS!r}, "DATABASE_URL": "sqlite:///{tmp_path}/w.db", "INSTANCE_PATH": "{tmp_path}"}})
        print(psycopg2.extensions.get_wait_callback().__module__)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "psycogreen.gevent"
