"""The /ws socket (CONTRACT §6, §8): authenticate with a single-use ticket, register with the hub,
keep the heartbeat and presence.

The socket never takes the agent's token in its URL (gunicorn's access log would keep it): the widget
trades its token for a ticket (``POST /api/realtime/ticket``) just before it connects. Presence and
the heartbeat live in the database, so every process agrees on who can take a call.
"""
import json
import time
from datetime import timedelta

from flask import Blueprint, current_app, jsonify, request

from widget_app.agents.tickets import TICKET_SECONDS, issue_ticket, redeem_ticket, still_signed_in
from widget_app.calls import inbound
from widget_app.core.clock import isoformat, utcnow
from widget_app.extensions import db, sock
from widget_app.models import Agent
from widget_app.realtime import events
from widget_app.web.auth import current_agent, login_required

bp = Blueprint("realtime", __name__, url_prefix="/api/realtime")

# simple-websocket wakes a blocked receive() before it marks the socket closed, and never again: a
# receive(timeout=20) can then sleep out its 20 s on a dead socket. Waking every few seconds bounds that.
RECEIVE_WAKE_SECONDS = 3
HEARTBEAT_SECONDS = 20  # last_seen_at refresh; routing calls an agent online for 60 s after it
UNAUTHORIZED = 4401
MAX_MESSAGE_BYTES = 4096  # the widget sends only presence (~40 bytes); a bigger frame closes with 1009


def _touch(agent_id: int, **fields):
    """A short write of the agent's heartbeat or presence, on a connection opened just for it."""
    with db.connection_context():
        Agent.update(**fields).where(Agent.id == agent_id).execute()


def _still_signed_in(agent_id: int, token_version: int) -> bool:
    """The heartbeat's check on a connection of its own: signed out or disabled elsewhere ends the socket."""
    with db.connection_context():
        return still_signed_in(agent_id, token_version)


@bp.post("/ticket")
@login_required
def ticket():
    """Trade the Bearer token for a single-use socket ticket, valid a few seconds (``/ws?ticket=…``)."""
    return jsonify(ticket=issue_ticket(current_agent()),
                   expires_at=isoformat(utcnow() + timedelta(seconds=TICKET_SECONDS)))


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
    ticket = request.args.get("ticket", "")
    if not db.is_closed():
        db.close()  # never hold the request's connection while blocked on receive
    with db.connection_context():
        redeemed = redeem_ticket(ticket)
    if redeemed is None:
        _reject(ws)
        return
    agent_id, token_version = redeemed[0].id, redeemed[1]
    hub = current_app.extensions["realtime"]
    conn = hub.add(agent_id, ws)
    try:
        _touch(agent_id, last_seen_at=utcnow())
        beat = time.monotonic()
        while True:
            data = ws.receive(timeout=RECEIVE_WAKE_SECONDS)
            if data is not None:
                _handle(agent_id, data)
            if time.monotonic() - beat >= HEARTBEAT_SECONDS:
                if not _still_signed_in(agent_id, token_version):  # signed out or disabled elsewhere
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
    """Bind the socket route with keepalive pings and a frame size limit, and the ticket route; the hub
    catches sockets up from the database."""
    app.config.setdefault("SOCK_SERVER_OPTIONS", {"ping_interval": 25, "max_message_size": MAX_MESSAGE_BYTES})
    app.extensions["realtime"].catch_up = lambda agent_ids: ringing_messages(app, agent_ids)
    app.register_blueprint(bp)
    sock.init_app(app)
