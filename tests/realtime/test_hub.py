"""The real-time hub over real WebSockets: ticket auth, delivery per agent, presence, heartbeat, Redis."""
import json
import time
import uuid

import pytest
from simple_websocket import ConnectionClosed

from tests.helpers import Client, wait_for
from widget_app.agents.tickets import issue_ticket
from widget_app.models import Agent
from widget_app.realtime import hub as realtime
from widget_app.realtime import socket as realtime_socket


def reload(agent):
    return Agent.get_by_id(agent.id)


def ticket_for(app, agent):
    with app.test_request_context():
        return issue_ticket(agent)


def connect(address, app, agent):
    """Open the agent's socket and wait until the hub has registered it (heartbeat written)."""
    ws = Client.connect(f"ws://{address}/ws?ticket={ticket_for(app, agent)}")
    assert wait_for(lambda: reload(agent).last_seen_at is not None)
    return ws


def receive_json(ws, timeout=5.0):
    data = ws.receive(timeout=timeout)
    assert data is not None, "no message arrived"
    return json.loads(data)


def close_code(ws, timeout=5.0) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ws.receive(timeout=0.2)
    return int(closed.value.reason)


@pytest.mark.parametrize("ticket", ["", "not-a-ticket", "revoked"])
def test_bad_or_missing_ticket_closes_with_4401(app, agent, serve_app, ticket):
    if ticket == "revoked":
        ticket = ticket_for(app, agent)
        Agent.update(token_version=Agent.token_version + 1).where(Agent.id == agent.id).execute()
    ws = Client.connect(f"ws://{serve_app(app)}/ws?ticket={ticket}")
    assert close_code(ws) == 4401
    assert reload(agent).last_seen_at is None


def test_message_reaches_only_the_named_agents_sockets(app, make_agent, serve_app):
    address = serve_app(app)
    ana, bob = make_agent(), make_agent(email="bob@example.com", name="Bob")
    ana_tabs = [connect(address, app, ana), connect(address, app, ana)]
    bob_ws = connect(address, app, bob)
    with app.app_context():
        realtime.notify([ana.id], {"type": "call_claimed", "call_id": 7})
    assert [receive_json(ws) for ws in ana_tabs] == [{"type": "call_claimed", "call_id": 7}] * 2
    assert bob_ws.receive(timeout=0.3) is None
    for ws in ana_tabs + [bob_ws]:
        ws.close()


def test_notify_none_reaches_every_connected_agent(app, make_agent, serve_app):
    address = serve_app(app)
    sockets = [connect(address, app, make_agent(email=f"a{i}@example.com")) for i in range(3)]
    with app.app_context():
        realtime.notify(None, {"type": "permission_updated", "permission": {"phone": "+447400123456"}})
    assert all(receive_json(ws)["type"] == "permission_updated" for ws in sockets)
    for ws in sockets:
        ws.close()


def test_presence_message_is_stored_for_every_process(app, agent, serve_app):
    ws = connect(serve_app(app), app, agent)
    ws.send(json.dumps({"type": "presence", "available": True}))
    assert wait_for(lambda: reload(agent).available)
    ws.send(json.dumps({"type": "presence", "available": False}))
    assert wait_for(lambda: not reload(agent).available)
    ws.send("not json")
    ws.send(json.dumps({"type": "presence", "available": "yes"}))  # ignored: not a boolean
    time.sleep(0.2)
    assert reload(agent).available is False
    ws.close()


def test_closing_the_last_socket_marks_the_agent_offline(app, agent, serve_app):
    address = serve_app(app)
    first, second = connect(address, app, agent), connect(address, app, agent)
    hub = app.extensions["realtime"]
    assert wait_for(lambda: len(hub.sockets.get(agent.id, ())) == 2)  # the server registered both
    first.close()
    time.sleep(0.3)
    assert reload(agent).last_seen_at is not None  # still one socket open
    second.close()
    assert wait_for(lambda: reload(agent).last_seen_at is None)


def test_heartbeat_refreshes_last_seen_and_drops_revoked_tokens(app, agent, serve_app, monkeypatch):
    monkeypatch.setattr(realtime_socket, "HEARTBEAT_SECONDS", 0.2)
    ws = connect(serve_app(app), app, agent)
    first_seen = reload(agent).last_seen_at
    assert wait_for(lambda: reload(agent).last_seen_at > first_seen)
    Agent.update(token_version=Agent.token_version + 1).where(Agent.id == agent.id).execute()
    assert close_code(ws) == 4401


def test_keepalive_pings_are_on(app):
    assert app.config["SOCK_SERVER_OPTIONS"]["ping_interval"] == 25


def test_hub_lives_on_the_app_not_the_module(make_app):
    first, second = make_app(), make_app()
    assert first.extensions["realtime"] is not second.extensions["realtime"]


def test_notify_never_raises(app, agent, socket_inbox, caplog):
    realtime.notify([agent.id], {"type": "call_claimed", "call_id": 1})  # no app context
    assert "could not notify" in caplog.text
    with app.app_context():
        inbox = socket_inbox(agent)
        realtime.notify([], {"type": "call_claimed", "call_id": 1})
        realtime.notify([None], {"type": "call_claimed", "call_id": 1})
        realtime.notify([agent.id], {"type": "call_claimed", "call_id": 2})
    assert inbox == [{"type": "call_claimed", "call_id": 2}]


def test_a_dead_redis_falls_back_to_this_process(make_app, make_agent, caplog):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    with app.app_context():
        hub = app.extensions["realtime"]
        recorder = type("Recorder", (), {"messages": [], "send": lambda self, t: self.messages.append(t)})()
        hub.sockets.setdefault(42, set()).add(realtime.Connection(42, recorder))
        realtime.notify([42], {"type": "call_claimed", "call_id": 3})
    assert [json.loads(t) for t in recorder.messages] == [{"type": "call_claimed", "call_id": 3}]
    assert "Redis publish failed" in caplog.text



def test_redis_fans_out_between_hubs(redis_url, make_app, make_agent, serve_app):
    """Two apps stand for two processes: a notify in one reaches a socket held by the other."""
    channel = f"widget:test:{uuid.uuid4().hex}"
    holder = make_app(REDIS_URL=redis_url, REALTIME_CHANNEL=channel)
    sender = make_app(REDIS_URL=redis_url, REALTIME_CHANNEL=channel)
    agent = make_agent()
    ws = connect(serve_app(holder), holder, agent)
    with sender.app_context():
        realtime.notify([agent.id], {"type": "call_status", "call": {"id": 9}})
    assert receive_json(ws) == {"type": "call_status", "call": {"id": 9}}
    assert sender.extensions["realtime"].deliver([agent.id], {"type": "x"}) == 0  # not its socket
    ws.close()


def test_a_closed_hub_stops_its_redis_listener(redis_url):
    hub = realtime.Hub(redis_url)
    hub.channel = f"test:{uuid.uuid4().hex}"
    hub._ensure_listener()
    assert hub._listener.is_alive()
    hub.close()
    hub._listener.join(timeout=10)
    assert not hub._listener.is_alive()


def test_a_closed_hub_stops_retrying_a_redis_that_is_gone():
    hub = realtime.Hub("redis://127.0.0.1:1/0")  # nothing listens there: the listener retries every few seconds
    hub._ensure_listener()
    assert hub._listener.is_alive()
    hub.close()
    hub._listener.join(timeout=10)
    assert not hub._listener.is_alive()
