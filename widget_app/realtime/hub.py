"""Real-time hub: the sockets of this process per agent, and Redis fan-out across processes (CONTRACT §6).

Each process keeps the sockets it holds in a ``Hub`` on ``app.extensions``. Without REDIS_URL,
``notify`` delivers in-process; with it, ``notify`` publishes to one Redis channel and one listener
thread per process (started on first use, so it lives in the gunicorn worker, not the master)
delivers to the local sockets. Pub/sub is at-most-once: widgets re-fetch ringing calls on reconnect.
Presence and the heartbeat live in the database, so every process agrees on who can take a call.

When Redis fails (a publish, or the subscription), the hub is *degraded*: it delivers in this process
only, and every second ``catch_up`` (set by the socket layer: the calls ringing for these agents, read
from the database) hands each local socket the rings it has not been told about, so no widget misses
a ring another process took in. Once the listener has resubscribed, one last catch-up closes the gap.
"""
import contextlib
import json
import logging
import os
import threading
import time

import redis
from flask import current_app
from simple_websocket import ConnectionClosed

log = logging.getLogger(__name__)
CHANNEL = "widget:realtime"


CATCH_UP_SECONDS = 1.0  # while degraded, how often the database is asked what rings
LISTEN_POLL_SECONDS = 1.0  # the listener checks for close() this often; a message never waits for it


def _ring_id(message: dict):
    """The call an ``incoming_call`` message rings for (None for any other message)."""
    return message["call"].get("id") if message.get("type") == "incoming_call" and message.get("call") else None


class Connection:
    """One open socket of one agent; sends are serialised because wsproto is not thread-safe."""

    def __init__(self, agent_id: int, ws):
        self.agent_id, self.ws, self.lock = agent_id, ws, threading.Lock()
        self.announced = set()  # ids of the calls this socket has been rung for

    def send(self, text: str, ring_id=None):
        with self.lock:
            self.ws.send(text)
            if ring_id is not None:
                self.announced.add(ring_id)


class Hub:
    """The sockets this process holds, by agent id, and its bridge to Redis when REDIS_URL is set."""

    def __init__(self, redis_url: str | None, catch_up=None):
        self.redis_url, self.channel = redis_url, CHANNEL
        self.catch_up = catch_up  # agent ids -> {agent id: [incoming_call messages ringing now]}
        self._fork_lock = threading.Lock()
        self._closed = threading.Event()
        self._reset()

    def _reset(self):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.sockets: dict[int, set[Connection]] = {}
        self._listener_lock = threading.Lock()
        self._listener = None
        self._publisher = None
        self._subscriber = None  # the Redis client whose connection holds the subscription
        self.degraded = False  # Redis failed us and the listener has not resubscribed since

    def _local(self):
        """State copied into a forked worker belongs to the parent: start afresh once per process."""
        if self.pid != os.getpid():
            with self._fork_lock:
                if self.pid != os.getpid():
                    self._reset()
        return self

    def is_degraded(self) -> bool:
        """True while Redis has failed this process (delivery is local, rings come from the database)."""
        return self._local().degraded

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
        """Send to every process (Redis) or just this one; a Redis failure falls back to local sockets
        (the other processes' catch-up brings them the rings)."""
        if self.redis_url and not self._local().degraded:
            try:
                self._redis().publish(self.channel, json.dumps({"agents": agent_ids, "message": message}))
                return
            except Exception as exc:
                log.warning("realtime: Redis publish failed (%s); delivering in this process only",
                            exc.__class__.__name__)
                self.degraded = True
                self._ensure_listener()  # it resubscribes, and ends the degraded mode, when Redis is back
        self.deliver(agent_ids, message)

    def deliver(self, agent_ids: list[int] | None, message: dict) -> int:
        """Write the message to this process's sockets of those agents (None: all); returns sends."""
        text = json.dumps(message)
        wanted = None if agent_ids is None else set(agent_ids)
        with self._local().lock:
            targets = [conn for agent_id, conns in self.sockets.items()
                       if wanted is None or agent_id in wanted for conn in conns]
        ring_id = _ring_id(message)
        return sum(self._send(conn, text, ring_id) for conn in targets)

    def _send(self, conn: Connection, text: str, ring_id=None) -> bool:
        try:
            conn.send(text, ring_id)
            return True
        except (ConnectionClosed, OSError):
            self.remove(conn)
            return False

    def catch_up_now(self) -> int:
        """Ring each local socket for the calls ringing for its agent that it has not heard of; returns sends."""
        with self._local().lock:
            agent_ids = sorted(self.sockets)
        if not agent_ids or self.catch_up is None:
            return 0
        sent = 0
        for agent_id, messages in self.catch_up(agent_ids).items():
            with self.lock:
                conns = list(self.sockets.get(agent_id, ()))
            for message in messages:
                ring_id = _ring_id(message)
                for conn in conns:
                    if ring_id not in conn.announced:
                        sent += self._send(conn, json.dumps(message), ring_id)
        if sent:
            log.info("realtime: caught %s socket(s) up on rings from the database", sent)
        return sent

    def _catch_up_safely(self):
        try:
            self.catch_up_now()
        except Exception:
            log.exception("realtime: catching up from the database failed")

    def close(self):
        """Stop this process's listener within a second (an app torn down in tests; a worker shutting down)."""
        self._closed.set()

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
        """Subscribe and wait for Redis to confirm, so nothing published afterwards is missed.

        The client is kept on the hub while its subscription lives: a ``Redis`` made by ``from_url``
        owns its pool and disconnects it when garbage-collected, which would drop the subscription the
        moment this returns (redis-py reconnects and resubscribes on the next read, and whatever was
        published in between is lost)."""
        client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2, health_check_interval=30)
        previous, self._subscriber = self._subscriber, client
        if previous is not None:
            with contextlib.suppress(Exception):  # its connection broke: that is why we subscribe again
                previous.close()
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
        """The per-process listener: deliver what any process published; resubscribe after outages,
        catching the local sockets up from the database meanwhile and once more when back."""
        while not self._closed.is_set():
            try:
                pubsub = pubsub or self._subscribe()
                if self.degraded:
                    self.degraded = False
                    log.info("realtime: resubscribed to Redis")
                    self._catch_up_safely()
                while not self._closed.is_set():  # a message is handed over as soon as it arrives
                    item = pubsub.get_message(timeout=LISTEN_POLL_SECONDS)
                    if item and item["type"] == "message":
                        envelope = json.loads(item["data"])
                        self.deliver(envelope.get("agents"), envelope["message"])
            except Exception as exc:
                if not self.degraded:
                    log.warning("realtime: Redis listener failed (%s); delivering rings from the database "
                                "until it is back", exc.__class__.__name__)
                self.degraded = True
                if pubsub is not None:
                    with contextlib.suppress(Exception):  # the connection is already broken
                        pubsub.close()
                pubsub = None
                self._catch_up_safely()
                self._closed.wait(CATCH_UP_SECONDS)


def init_app(app):
    """This app's hub, on app.extensions["realtime"]."""
    hub = app.extensions["realtime"] = Hub(app.config.get("REDIS_URL"))
    hub.channel = app.config.get("REALTIME_CHANNEL") or CHANNEL  # tests and shared Redis servers


def notify(agent_ids, message: dict):
    """Deliver ``message`` to every socket of the given agents (None: every connected agent); never raises."""
    try:
        ids = None if agent_ids is None else sorted({int(a) for a in agent_ids if a is not None})
        if ids == []:
            return
        current_app.extensions["realtime"].publish(ids, message)
    except Exception:
        log.exception("realtime: could not notify %s of %s", agent_ids, message.get("type"))
