"""The /ws socket (CONTRACT §6): authenticate, register with the hub, keep the heartbeat and presence.

Presence and the heartbeat live in the database, so every process agrees on who can take a call.
"""
import json
import time

from flask import current_app, request

from widget_app.agents.accounts import agent_from_token
from widget_app.calls import inbound
from widget_app.core.clock import utcnow
from widget_app.extensions import db, sock
from widget_app.models import Agent
from widget_app.realtime import events

HEARTBEAT_SECONDS = 20  # last_seen_at refresh; routing calls an agent online for 60 s after it
UNAUTHORIZED = 4401


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


def ringing_messages(app, agent_ids: list[int]) -> dict[int, list[dict]]:
    """What rings for these agents now, as /api/calls/ringing says it: the hub's catch-up without Redis."""
    with app.app_context(), db.connection_context():
        return {agent.id: [events.incoming_call(call) for call in inbound.ringing_for(agent)]
                for agent in Agent.select().where(Agent.id.in_(agent_ids))}


def init_app(app):
    """Bind the socket route with keepalive pings; the hub catches sockets up from the database."""
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": 25})
    app.extensions["realtime"].catch_up = lambda agent_ids: ringing_messages(app, agent_ids)
    sock.init_app(app)
