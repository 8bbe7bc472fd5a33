"""What several test packages share that is not a fixture: the settings every test app starts from,
Twilio's and HubSpot's real URLs, and small helpers (skip-or-fail, polling, ports, threaded servers,
HubSpot's v3 signature, a redis-server a test may stop). Tests import it (`from tests.helpers import ...`); fixtures live in conftest.py."""
import base64
import contextlib
import hashlib
import hmac
import os
import socket
import subprocess
import threading
import time

import pytest
import redis
import simple_websocket

IN_CI = os.environ.get("CI") == "true"
PUBLIC_BASE_URL = "https://widget.example.com"
TEST_SETTINGS = {
    "TESTING": True,
    "WIDGET_MODE": "live",
    "SECRET_KEY": "test-secret-key",
    "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
    "FRAME_ANCESTORS": "https://*.hubspot.com",
    "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "TWILIO_AUTH_TOKEN": "test-twilio-auth-token",
    "TWILIO_API_KEY_SID": "SK" + "1" * 32,
    "TWILIO_API_KEY_SECRET": "test-api-key-secret-000000000000",  # 32 bytes: PyJWT warns below that
    "TWILIO_TWIML_APP_SID": "AP" + "1" * 32,
    "TWILIO_WHATSAPP_NUMBER": "+442071838750",
    "TWILIO_PERMISSION_CONTENT_SID": "HX" + "1" * 32,
    "HUBSPOT_ACCESS_TOKEN": "test-hubspot-token",
    "HUBSPOT_CLIENT_ID": "test-client-id",
    "HUBSPOT_CLIENT_SECRET": "test-client-secret",
    "HUBSPOT_APP_ID": "123456",
    "HUBSPOT_DEVELOPER_API_KEY": "test-dev-key",
    "SYNC_WORKER": False,
}
TWILIO_API = f"https://api.twilio.com/2010-04-01/Accounts/{TEST_SETTINGS['TWILIO_ACCOUNT_SID']}"
HUBSPOT_API = "https://api.hubapi.com"
CONTACT_PHONE = "+447911123456"  # phonenumbers rejects the +447700900xxx drama range


def require_or_skip(what: str):
    """Outside CI a missing browser or server skips; under CI=true it fails the run."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(f"{what} is not available")


def wait_for(predicate, timeout=10.0):
    """Poll until ``predicate()`` is truthy and return its value; on timeout return the last (falsy) one."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def free_port() -> int:
    """A loopback port nobody listens on right now (the benchmarks use it too)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_in_thread(server):
    """Serve ``server`` from a daemon thread for the block, then stop it, close it and join the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def hubspot_v3_signature(secret: str, method: str, uri: str, body: str, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), f"{method}{uri}{body}{timestamp}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


class Client(simple_websocket.Client):
    """simple-websocket's client, also reading what arrived together with the handshake's answer.

    The library's handshake keeps only the first event of its read: a close the server sends right
    after ``101`` (a refused ticket) can arrive in the same segment, sit unread, and the socket then
    seems closed without a code (1005). Reading the rest before the receive loop starts fixes that.
    """

    def _thread(self):
        self.connected = self._handle_events()
        super()._thread()


class OwnRedis:
    """A redis-server of this test on a free loopback port, which the test may stop and start again."""

    def __init__(self):
        self.port, self.process = free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for(self._answers, timeout=10), "redis-server did not start"

    def _answers(self) -> bool:
        with contextlib.suppress(redis.RedisError):
            return redis.Redis(port=self.port, socket_timeout=0.5).ping()
        return False

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
