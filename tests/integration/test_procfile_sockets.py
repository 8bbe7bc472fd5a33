"""The Procfile's own web command keeps answering HTTP and webhooks while hundreds of agent sockets
are open (issue 16, item 1): a socket must not hold a worker thread for its life. (bench/sockets.py
measures 1,000; this test proves the model with more sockets than the old 2 x 50 threads held.)"""
import asyncio
import base64
import concurrent.futures
import json
import os
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from werkzeug.security import generate_password_hash

from tests.helpers import CONTACT_PHONE, TEST_SETTINGS, free_port
from widget_app.agents.accounts import issue_token
from widget_app.models import Agent, Call, db
from widget_app.twilio.signatures import sign

pytestmark = pytest.mark.integration
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOCKETS = 240  # more than the 2 x 50 threads of the old Procfile, twice over
TIMEOUT = 15  # a liveness bound (seconds), not a speed measurement


def procfile_web_command(port: int) -> list[str]:
    """The Procfile's web: line as the platform runs it, on a loopback port."""
    with open(os.path.join(ROOT, "Procfile")) as fh:
        line = next(line for line in fh if line.startswith("web:"))
    command = line.split(":", 1)[1].strip().replace("0.0.0.0:$PORT", f"127.0.0.1:{port}")
    argv = shlex.split(command.replace("$PORT", str(port)))
    assert argv[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *argv[1:]]


def http(request: urllib.request.Request) -> int:
    """The status of one request; a timeout or a refused connection fails the test."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def socket_ticket(port: int, token: str) -> str:
    """A single-use socket ticket, fetched with the agent's token as the widget does before it connects."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/realtime/ticket", data=b"", method="POST",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.load(response)["ticket"]


async def open_sockets(port: int, tokens: list[str], opened: list, parallel: int = 20) -> list:
    """Open one signed-in /ws per token (at most ``parallel`` handshakes at once) into ``opened`` as
    (reader, writer) pairs; keep them open. Returns the failures (a handshake not answered in time, or
    refused)."""
    gate = asyncio.Semaphore(parallel)

    async def one(token):
        async with gate:
            ticket = await asyncio.to_thread(socket_ticket, port, token)
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), TIMEOUT)
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write((f"GET /ws?ticket={urllib.parse.quote(ticket)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                          f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n").encode())
            opened.append((reader, writer))
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            if not head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError(head[:80])
    outcomes = await asyncio.gather(*(one(token) for token in tokens), return_exceptions=True)
    return [outcome for outcome in outcomes if outcome is not None]


async def close_all(opened: list):
    """Close every socket and wait until each is closed (an unclosed one is a ResourceWarning)."""
    for _, writer in opened:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for _, writer in opened), return_exceptions=True)


@pytest.fixture
def procfile_server(make_app, database_url, tmp_path):
    """The Procfile's web command on a loopback port, on either database, with agents to connect."""
    port = free_port()
    settings = {**TEST_SETTINGS, "DATABASE_URL": database_url, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    app = make_app(DATABASE_URL=database_url)
    with app.test_request_context(), db.connection_context():
        Agent.create(email="ana@example.com", name="Ana", password_hash=generate_password_hash("correct horse"))
        cheap = generate_password_hash("x", method="pbkdf2:sha256:1")
        agents = [Agent.create(email=f"a{i}@example.com", name=f"A{i}", password_hash=cheap) for i in range(SOCKETS)]
        tokens = [issue_token(agent) for agent in agents]
        call = Call.create(direction="outbound", status="queued", from_number="+442071838750",
                           to_number=CONTACT_PHONE, agent=agents[0], parent_sid="CA" + "b" * 32)
    errors = open(tmp_path / "web.err", "w")
    env = {**os.environ, **{k: str(v) for k, v in settings.items()}, "PORT": str(port)}
    process = subprocess.Popen(procfile_web_command(port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http(urllib.request.Request(f"http://127.0.0.1:{port}/healthz")) == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "web.err").read_text()[-3000:]
            time.sleep(0.2)
        yield port, tokens, call.id
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        errors.close()


def requests_while_sockets_are_open(base: str, token: str) -> list[int]:
    """The statuses of a health check, a sign-in, a signed status callback and an API read."""
    login = urllib.request.Request(base + "/api/auth/login", headers={"Content-Type": "application/json"},
                                   data=b'{"email": "ana@example.com", "password": "correct horse"}')
    form = {"CallSid": "CA" + "w" * 32, "ParentCallSid": "CA" + "b" * 32, "CallStatus": "ringing",
            "SequenceNumber": "1", "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"]}
    callback = urllib.request.Request(base + "/twilio/voice/status", data=urllib.parse.urlencode(form).encode(),
                                      headers={"X-Twilio-Signature": sign(base + "/twilio/voice/status", form,
                                                                          TEST_SETTINGS["TWILIO_AUTH_TOKEN"])})
    status = urllib.request.Request(base + f"/api/permissions/status/{urllib.parse.quote(CONTACT_PHONE)}",
                                    headers={"Authorization": f"Bearer {token}"})
    return [http(urllib.request.Request(base + "/healthz")), http(login), http(callback), http(status)]


async def hold_sockets_and_request(port: int, tokens: list[str]) -> tuple[list, int, list[int]]:
    """Open a socket per token, make the requests while all are held, then close them: the handshake
    failures, how many sockets were still open after the requests, and the requests' statuses."""
    opened = []
    try:
        failures = await open_sockets(port, tokens, opened)
        statuses = await asyncio.to_thread(requests_while_sockets_are_open, f"http://127.0.0.1:{port}", tokens[0])
        await asyncio.sleep(0.5)  # a socket the server dropped would now read end-of-file
        still_open = sum(1 for reader, writer in opened if not reader.at_eof() and not writer.is_closing())
        return failures, still_open, statuses
    finally:
        await close_all(opened)


def test_the_procfile_deployment_answers_http_and_webhooks_with_hundreds_of_sockets_open(procfile_server):
    port, tokens, call_id = procfile_server
    # Its own thread and event loop: a browser test's Playwright may hold this thread's running loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        failures, still_open, statuses = pool.submit(asyncio.run, hold_sockets_and_request(port, tokens)).result()
    assert failures == []
    assert still_open == SOCKETS
    assert statuses == [200, 200, 204, 200]
    with db.connection_context():
        assert Call.get_by_id(call_id).status == "ringing"
