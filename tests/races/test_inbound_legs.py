"""An inbound call rings several agents' browsers (one <Client> leg each): only the accepted leg and
the caller's own leg move the call; Twilio's callbacks for the legs it cancels touch only their ring rows."""
from tests.helpers import CONTACT_PHONE
from tests.races.conftest import INBOUND_LEG, SENDER, leg_form, leg_sid, post_signed, post_together, stored
from widget_app.core.clock import utcnow
from widget_app.models import Agent, Call, CallRing, db

STATUS = "/twilio/voice/status"


def ringing_call(agents, claimed_by=None) -> Call:
    """An inbound call ringing every agent in ``agents`` (claimed by one of them, if given)."""
    with db.connection_context():
        call = Call.create(direction="inbound", status="ringing", sid=INBOUND_LEG, from_number=CONTACT_PHONE,
                           to_number=SENDER, agent=claimed_by, started_at=utcnow())
        for agent in agents:
            CallRing.create(call=call, agent=agent)
    return call


def more_agents(count):
    with db.connection_context():
        return [Agent.create(email=f"agent{n}@example.com", name=f"Agent {n}", password_hash="x")
                for n in range(count)]


def ring_row(call, agent) -> CallRing:
    with db.connection_context():
        return CallRing.get(CallRing.call == call.id, CallRing.agent == agent.id)


def test_losing_legs_canceled_after_the_answer_leave_the_call_talking(served):
    app, address, winner = served
    losers = more_agents(2)
    call = ringing_call([winner, *losers], claimed_by=winner)
    post_signed(address, STATUS, leg_form(winner, "in-progress", 2))
    post_signed(address, STATUS, leg_form(losers[0], "canceled", 3, CallDuration="0"))
    post_signed(address, STATUS, leg_form(losers[1], "completed", 3, CallDuration="0"))
    talking = stored(call)
    assert (talking.status, talking.agent_id, talking.ended_at) == ("in-progress", winner.id, None)
    assert (ring_row(call, losers[0]).leg_status, ring_row(call, losers[1]).leg_status) == ("canceled", "completed")
    assert ring_row(call, losers[0]).leg_sid == leg_sid(losers[0])
    post_signed(address, STATUS, leg_form(winner, "completed", 4, CallDuration="40"))
    done = stored(call)
    assert (done.status, done.duration_seconds, done.answered_at is not None) == ("completed", 40, True)
    assert ring_row(call, winner).leg_status == "completed"


def test_losing_legs_arriving_with_the_answer_leave_the_call_talking(served, slow_database):
    app, address, winner = served
    losers = more_agents(2)
    call = ringing_call([winner, *losers], claimed_by=winner)
    answers = post_together(address, STATUS, [leg_form(winner, "in-progress", 2),
                                              leg_form(losers[0], "canceled", 3, CallDuration="0"),
                                              leg_form(losers[1], "completed", 3, CallDuration="0")])
    assert answers == [204, 204, 204]
    assert (stored(call).status, stored(call).ended_at) == ("in-progress", None)


def test_a_leg_of_another_agent_cannot_answer_a_claimed_call(served):
    app, address, winner = served
    [other] = more_agents(1)
    call = ringing_call([winner, other], claimed_by=winner)
    post_signed(address, STATUS, leg_form(other, "in-progress", 2))
    post_signed(address, STATUS, leg_form(other, "completed", 3, CallDuration="12"))
    assert (stored(call).status, stored(call).answered_at) == ("ringing", None)
    post_signed(address, STATUS, leg_form(winner, "in-progress", 2))
    assert stored(call).status == "in-progress"


def test_the_callers_own_leg_ends_an_answered_call(served):
    app, address, winner = served
    [other] = more_agents(1)
    call = ringing_call([winner, other], claimed_by=winner)
    post_signed(address, STATUS, leg_form(winner, "in-progress", 2))
    caller_leg = {**leg_form(winner, "completed", 5, CallDuration="33"), "CallSid": INBOUND_LEG,
                  "To": f"whatsapp:{SENDER}", "Direction": "inbound"}
    caller_leg.pop("ParentCallSid")
    post_signed(address, STATUS, caller_leg)
    assert (stored(call).status, stored(call).duration_seconds) == ("completed", 33)
