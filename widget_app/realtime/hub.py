"""Real-time hub: the /ws socket, a registry per agent, Redis fan-out across processes (CONTRACT §6).

Each process keeps the sockets it holds in a ``Hub`` on ``app.extensions``. Without REDIS_URL,
``notify`` delivers in-process; with it, ``notify`` publishes to one Redis channel and one listener
thread per process (started on first use, so it lives in the gunicorn worker, not the master)
delivers to the local sockets. Pub/sub is at-most-once: widgets re-fetch ringing calls on reconnect.
Presence and the heartbeat live in the database, so every process agrees on who can take a call.
"""
import contextlib
import json
import logging
import os
import threading
import time

import redis
from flask import current_app, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from widget_app.agents.routes import agent_from_token
from widget_app.core.clock import utcnow
from widget_app.models import Agent, db

log = logging.getLogger(__name__)
sock = Sock()
CHANNEL = "widget:realtime"
HEARTBEAT_SECONDS = 20  # last_seen_at refresh; routing calls an agent online for 60 s after it
UNAUTHORIZED = 4401


class Connection:
    """One open socket of one agent; sends are serialised because wsproto is not thread-safe."""

    def __init__(self, agent_id: int, ws):
        self.agent_id, self.ws, self.lock = agent_id, ws, threading.Lock()

    def send(self, text: str):
        with self.lock:
            self.ws.send(text)


class Hub:
    """The sockets this process holds, by agent id, and its bridge to Redis when REDIS_URL is set."""

    def __init__(self, redis_url: str | None):
        self.redis_url, self.channel = redis_url, CHANNEL
        self._fork_lock = threading.Lock()
        self._reset()

    def _reset(self):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.sockets: dict[int, set[Connection]] = {}
        self._listener_lock = threading.Lock()
        self._listener = None
        self._publisher = None

    def _local(self):
        """State copied into a forked worker belongs to the parent: start afresh once per process."""
        if self.pid != os.getpid():
            with self._fork_lock:
                if self.pid != os.getpid():
                    self._reset()
        return self

    def add(self, agent_id: int, ws) -> Connection:
        """Register a socket; with Redis, make sure this process is subscribed before it counts."""
        if self.redis_url:
            self._local()._ensure_listener()
        conn = Connection(agent_id, ws)
        with self._local().lock:
            self.sockets.setdefault(agent_id, set()).add(conn)
        return conn

    def remove(self, conn: Connection) -> int:
        """Forget a socket; returns how many sockets the agent still has in this process."""
        with self._local().lock:
            conns = self.sockets.get(conn.agent_id, set())
            conns.discard(conn)
            if not conns:
                self.sockets.pop(conn.agent_id, None)
            return len(conns)

    def publish(self, agent_ids: list[int] | None, message: dict):
        """Send to every process (Redis) or just this one; a Redis failure falls back to local sockets."""
        if self.redis_url:
            try:
                self._redis().publish(self.channel, json.dumps({"agents": agent_ids, "message": message}))
                return
            except Exception:
                log.exception("realtime: Redis publish failed; delivering in this process only")
        self.deliver(agent_ids, message)

    def deliver(self, agent_ids: list[int] | None, message: dict) -> int:
        """Write the message to this process's sockets of those agents (None: all); returns sends."""
        text = json.dumps(message)
        wanted = None if agent_ids is None else set(agent_ids)
        with self._local().lock:
            targets = [conn for agent_id, conns in self.sockets.items()
                       if wanted is None or agent_id in wanted for conn in conns]
        sent = 0
        for conn in targets:
            try:
                conn.send(text)
                sent += 1
            except (ConnectionClosed, OSError):
                self.remove(conn)
        return sent

    def _redis(self):
        if self._local()._publisher is None:
            self._publisher = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, socket_timeout=2)
        return self._publisher

    def _ensure_listener(self):
        with self._listener_lock:
            if self._listener is not None and self._listener.is_alive():
                return
            try:
                pubsub = self._subscribe()
            except Exception:
                log.exception("realtime: cannot subscribe to Redis yet; the listener will retry")
                pubsub = None
            self._listener = threading.Thread(target=self._listen, args=(pubsub,), daemon=True,
                                              name=f"realtime-listener-{os.getpid()}")
            self._listener.start()

    def _subscribe(self):
        """Subscribe and wait for Redis to confirm, so nothing published afterwards is missed."""
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=30)
        pubsub = client.pubsub()
        pubsub.subscribe(self.channel)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            item = pubsub.get_message(timeout=1.0)
            if item and item["type"] == "subscribe":
                return pubsub
        pubsub.close()
        raise TimeoutError("Redis did not confirm the subscription")

    def _listen(self, pubsub):
        """The per-process listener: deliver what any process published; resubscribe after outages."""
        while True:
            try:
                pubsub = pubsub or self._subscribe()
                for item in pubsub.listen():
                    if item["type"] == "message":
                        envelope = json.loads(item["data"])
                        self.deliver(envelope.get("agents"), envelope["message"])
            except Exception:
                log.exception("realtime: Redis listener failed; resubscribing in 1 s")
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # the connection is already broken
                        pubsub.close()
                pubsub = None
                time.sleep(1)


def init_app(app):
    """Bind the socket route, keepalive pings, and this app's hub."""
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": 25})
    hub = app.extensions["realtime"] = Hub(app.config.get("REDIS_URL"))
    hub.channel = app.config.get("REALTIME_CHANNEL") or CHANNEL  # tests and shared Redis servers
    sock.init_app(app)


def notify(agent_ids, message: dict):
    """Deliver ``message`` to every socket of the given agents (None: every connected agent); never raises."""
    try:
        ids = None if agent_ids is None else sorted({int(a) for a in agent_ids if a is not None})
        if ids == []:
            return
        current_app.extensions["realtime"].publish(ids, message)
    except Exception:
        log.exception("realtime: could not notify %s of %s", agent_ids, message.get("type"))


def _touch(agent_id: int, **fields):
    """A short write of the agent's heartbeat or presence, on a connection opened just for it."""
    with db.connection_context():
        Agent.update(**fields).where(Agent.id == agent_id).execute()


def _token_still_valid(token: str) -> bool:
    with db.connection_context():
        return agent_from_token(token) is not None


def _reject(ws):
    """Close with 4401 and wait (briefly) for the client's close reply: closing the TCP socket first
    could reset the connection before the browser has read our close code."""
    ws.close(reason=UNAUTHORIZED, message="unauthorized")
    ws.thread.join(timeout=2)


def _handle(agent_id: int, data):
    """Widget -> server messages: only presence, from the availability toggle."""
    try:
        message = json.loads(data)
    except (TypeError, ValueError):
        return
    if isinstance(message, dict) and message.get("type") == "presence" \
            and isinstance(message.get("available"), bool):
        _touch(agent_id, available=message["available"], last_seen_at=utcnow())


@sock.route("/ws")
def socket(ws):
    """An agent's live line: authenticate, register, then heartbeat and presence until it closes."""
    token = request.args.get("token", "")
    if not db.is_closed():
        db.close()  # never hold the request's connection while blocked on receive
    with db.connection_context():
        agent = agent_from_token(token)
    if agent is None:
        _reject(ws)
        return
    agent_id = agent.id
    hub = current_app.extensions["realtime"]
    conn = hub.add(agent_id, ws)
    try:
        _touch(agent_id, last_seen_at=utcnow())
        beat = time.monotonic()
        while True:
            data = ws.receive(timeout=HEARTBEAT_SECONDS)
            if data is not None:
                _handle(agent_id, data)
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                if not _token_still_valid(token):  # signed out or disabled elsewhere
                    _reject(ws)
                    return
                _touch(agent_id, last_seen_at=utcnow())
                beat = time.monotonic()
    finally:
        if hub.remove(conn) == 0:
            # Offline at once, so routing stops ringing a closed widget; a socket of the same agent
            # in another process puts the heartbeat back within HEARTBEAT_SECONDS.
            _touch(agent_id, last_seen_at=None)
