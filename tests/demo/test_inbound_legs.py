"""The simulated Twilio rings an inbound call as Twilio does (issue 13 item 11): every <Client> leg
our TwiML rang reports initiated and ringing; when one agent answers, the other legs are canceled and
their callbacks follow the winner's in-progress (or precede it, delivered out of order; or come twice).
Everything runs through the real signed webhooks; the tests assert the app's end state."""
import pytest

from tests.helpers import CONTACT_PHONE, wait_for
from widget_app.agents.accounts import issue_token
from widget_app.core.clock import utcnow
from widget_app.demo import inbound as demo_inbound
from widget_app.models import Agent, Call, CallRing, WebhookEvent


@pytest.fixture
def demo_app(make_app):
    return make_app(WIDGET_MODE="demo", DEMO_VOICE_DELAY_SCALE=0)


@pytest.fixture
def three_agents(demo_app, db):
    now = utcnow()
    agents = [Agent.create(email=f"a{i}@example.com", name=f"A{i}", password_hash="-", available=True,
                           last_seen_at=now) for i in range(3)]
    with demo_app.test_request_context():
        return [(agent, {"Authorization": f"Bearer {issue_token(agent)}"}) for agent in agents]


def handled(call) -> list[tuple[str, str]]:
    """(leg's client, CallStatus) of every leg callback our webhook handled, in arrival order."""
    rows = WebhookEvent.select().where(WebhookEvent.source == "twilio-voice-status").order_by(WebhookEvent.id)
    return [(row.payload.get("To"), row.payload["CallStatus"]) for row in rows
            if row.payload.get("ParentCallSid") == call.sid]


def call_in(client, legs_wanted=3) -> Call:
    """The contact calls in; returns once Twilio's legs (sent after our TwiML, as Twilio does) all ring."""
    rang = client.post("/dev/api/contact/call-in", json={"phone": CONTACT_PHONE})
    assert rang.status_code == 201, rang.json
    call = Call.get_by_id(rang.json["call"]["id"])
    assert wait_for(lambda: [status for _, status in legs(call).values()] == ["ringing"] * legs_wanted)
    return call


def answer(client, call, agent, headers):
    assert client.post(f"/api/calls/{call.id}/accept", headers=headers).status_code == 200
    answered = client.post("/dev/api/voice/inbound-answer", json={"call_id": call.id})
    assert answered.status_code == 200, answered.json


def legs(call) -> dict[int, tuple[str | None, str | None]]:
    return {ring.agent_id: (ring.leg_sid, ring.leg_status) for ring in CallRing.select().where(CallRing.call == call.id)}


def test_every_rung_leg_reports_and_the_losers_are_canceled_after_the_winners_answer(demo_app, three_agents):
    client = demo_app.test_client()
    call = call_in(client)
    ringing = legs(call)
    assert len(ringing) == 3 and all(status == "ringing" and sid for sid, status in ringing.values())
    (winner, headers), losers = three_agents[0], [agent for agent, _ in three_agents[1:]]

    answer(client, call, winner, headers)

    sent = demo_app.extensions["demo_twilio_callbacks"]
    statuses = [(p["To"], p["CallStatus"]) for p in sent]
    won_at = statuses.index((f"client:{winner.voice_identity}", "in-progress"))
    assert sorted(statuses[won_at + 1:]) == sorted((f"client:{a.voice_identity}", "canceled") for a in losers)
    call = Call.get_by_id(call.id)
    assert (call.status, call.agent_id) == ("in-progress", winner.id) and call.ended_at is None
    after = legs(call)
    assert after[winner.id][1] == "in-progress" and all(after[a.id][1] == "canceled" for a in losers)
    assert len({sid for sid, _ in after.values()}) == 3  # one leg per browser


@pytest.mark.parametrize("switches", [{"out_of_order": True}, {"duplicate": True},
                                      {"out_of_order": True, "duplicate": True}])
def test_an_answered_call_stays_in_progress_whatever_order_and_copies_the_legs_arrive_in(
        demo_app, three_agents, switches):
    client = demo_app.test_client()
    assert client.post("/dev/api/twilio/delivery", json=switches).status_code == 200
    call = call_in(client)
    (winner, headers), losers = three_agents[0], [agent for agent, _ in three_agents[1:]]
    answer(client, call, winner, headers)
    # 3 x (initiated, ringing), the answer, 2 cancels; a second copy is recorded once (WebhookEvent)
    assert wait_for(lambda: len(handled(call)) == 3 * 2 + 1 + 2)
    if switches.get("out_of_order"):  # the losers' cancels overtook the winner's answer
        order = handled(call)
        assert order.index((f"client:{losers[0].voice_identity}", "canceled")) < \
            order.index((f"client:{winner.voice_identity}", "in-progress"))
    call = Call.get_by_id(call.id)
    assert (call.status, call.agent_id) == ("in-progress", winner.id) and call.answered_at is not None
    after = legs(call)
    assert after[winner.id][1] == "in-progress" and all(after[a.id][1] == "canceled" for a in losers)

    hung_up = client.post("/dev/api/contact/hang-up-inbound", json={"call_id": call.id})
    assert hung_up.status_code == 200
    assert wait_for(lambda: Call.get_by_id(call.id).status == "completed")


def test_a_caller_who_hangs_up_while_ringing_cancels_every_leg_and_the_call_is_missed(demo_app, three_agents):
    client = demo_app.test_client()
    call = call_in(client)
    assert client.post("/dev/api/contact/hang-up-inbound", json={"call_id": call.id}).status_code == 200
    statuses = [(p["To"], p["CallStatus"]) for p in demo_app.extensions["demo_twilio_callbacks"]]
    assert sorted(s for s in statuses if s[1] == "canceled") == sorted(
        (f"client:{agent.voice_identity}", "canceled") for agent, _ in three_agents)
    assert Call.get_by_id(call.id).status == "no-answer"
    assert {status for _, status in legs(call).values()} == {"canceled"}


def test_legs_are_kept_per_call_from_the_twiml_not_from_our_records(demo_app, three_agents):
    client = demo_app.test_client()
    call = call_in(client)
    with demo_app.app_context():
        rung = demo_inbound.rung_identities(call)
    assert sorted(rung) == sorted(agent.voice_identity for agent, _ in three_agents)
