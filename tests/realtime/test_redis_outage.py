"""Redis down does not lose rings: a process cut off from Redis rings its sockets from the database
(what /api/calls/ringing says), never twice for the same call, reports it in /healthz, and
resubscribes when Redis returns. Each test runs its own redis-server, so it can stop it."""
import json
import uuid

import redis

from tests.helpers import wait_for
from widget_app.core.clock import utcnow
from widget_app.models import Call, CallRing
from widget_app.realtime.hub import Hub
from widget_app.realtime.socket import ringing_messages


class Inbox:
    """A socket in the hub that keeps what it is sent."""

    def __init__(self):
        self.messages = []

    def send(self, text):
        self.messages.append(json.loads(text))

    def rings(self) -> list:
        return [m["call"]["id"] for m in self.messages if m["type"] == "incoming_call"]


def hub_on(url, catch_up=None) -> Hub:
    """One process's hub on a channel of this test."""
    hub = Hub(url, catch_up=catch_up)
    hub.channel = f"test:{uuid.uuid4().hex}"
    return hub


def ring_message(call_id: int) -> dict:
    return {"type": "incoming_call", "call": {"id": call_id, "status": "ringing"}, "contact": None}


def test_a_process_cut_off_from_redis_rings_its_sockets_from_the_database(own_redis):
    ringing = {}
    hub = hub_on(own_redis.url, catch_up=lambda ids: {i: ringing.get(i, []) for i in ids})
    inbox = Inbox()
    hub.add(7, inbox)
    own_redis.stop()
    ringing[7] = [ring_message(41)]  # another process took the call in and could not publish it
    assert wait_for(lambda: inbox.rings() == [41], timeout=10), inbox.messages


def test_the_first_subscription_stays_open_so_nothing_published_after_it_is_lost(own_redis):
    """Once add() returns the process is subscribed for good: Redis accepts exactly two connections
    (the subscription and the publisher), not a third one made to subscribe again after the first was
    dropped (a message published in that gap reached nobody; under load the ring was lost)."""
    probe = redis.Redis(port=own_redis.port)
    accepted = probe.info("stats")["total_connections_received"]
    hub = hub_on(own_redis.url)
    inbox = Inbox()
    hub.add(7, inbox)
    assert probe.pubsub_numsub(hub.channel) == [(hub.channel.encode(), 1)]
    hub.publish([7], ring_message(41))
    assert wait_for(lambda: inbox.rings() == [41])
    assert probe.info("stats")["total_connections_received"] - accepted == 2
    hub.close()


def test_a_ring_the_socket_already_has_is_not_sent_again(own_redis):
    asked = []

    def catch_up(ids):
        asked.append(ids)
        return {7: [ring_message(41)]}

    hub = hub_on(own_redis.url, catch_up=catch_up)
    inbox = Inbox()
    hub.add(7, inbox)
    hub.publish([7], ring_message(41))
    assert wait_for(lambda: inbox.rings() == [41])
    own_redis.stop()
    assert wait_for(lambda: len(asked) >= 3, timeout=10)
    assert inbox.rings() == [41]


def test_a_failed_publish_delivers_here_and_stops_waiting_on_redis(own_redis):
    hub = hub_on(own_redis.url)
    inbox = Inbox()
    hub.add(7, inbox)
    own_redis.stop()
    hub.publish([7], ring_message(41))
    assert inbox.rings() == [41] and hub.is_degraded()


def test_when_redis_returns_the_hub_resubscribes_and_catches_up(own_redis):
    ringing = {}
    listening = hub_on(own_redis.url, catch_up=lambda ids: {i: ringing.get(i, []) for i in ids})
    publishing = hub_on(own_redis.url)
    publishing.channel = listening.channel
    inbox = Inbox()
    listening.add(7, inbox)
    own_redis.stop()
    assert wait_for(listening.is_degraded, timeout=10)
    own_redis.start()
    assert wait_for(lambda: not listening.is_degraded(), timeout=15)
    publishing.publish([7], {"type": "call_claimed", "call_id": 41})
    assert wait_for(lambda: {"type": "call_claimed", "call_id": 41} in inbox.messages, timeout=10)


def test_healthz_reports_redis_while_it_is_down_and_recovers_once_resubscribed(make_app, own_redis):
    app = make_app(REDIS_URL=own_redis.url)
    app.extensions["realtime"].add(7, Inbox())
    own_redis.stop()
    assert wait_for(app.extensions["realtime"].is_degraded, timeout=10)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and set(response.json["failed"]) == {"redis"}
    own_redis.start()
    assert wait_for(lambda: app.test_client().get("/healthz").status_code == 200, timeout=15)


def test_healthz_names_a_process_whose_hub_is_not_subscribed(make_app, own_redis):
    app = make_app(REDIS_URL=own_redis.url)
    app.extensions["realtime"].degraded = True  # as a failed publish leaves it, before the listener is back
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and "not subscribed" in response.json["failed"]["redis"]


def test_the_catch_up_reads_what_rings_for_each_agent_from_the_database(app, make_agent):
    ana, bo = make_agent(), make_agent(email="bo@example.com")
    call = Call.create(direction="inbound", status="ringing", sid="CA" + "1" * 32, from_number="+447400123456",
                       to_number="+442071838750", started_at=utcnow())
    CallRing.create(call=call, agent=ana, rung_at=utcnow())
    answer = ringing_messages(app, [ana.id, bo.id])
    assert [m["call"]["id"] for m in answer[ana.id]] == [call.id] and answer[bo.id] == []
