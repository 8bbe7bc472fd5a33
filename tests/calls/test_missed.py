"""Missed inbound calls (issue 14, item 2): a rep sees the calls nobody answered from contacts they own
and from callers nobody owns, with the caller's name, why it was missed, and a badge of the unseen ones."""
from datetime import timedelta

from widget_app.core.clock import utcnow
from widget_app.models import Agent, Call, CallRing


def missed_call(owner_id=None, contact=None, status="no-answer", **fields):
    now = utcnow()
    values = {"started_at": now, "ended_at": now, **fields}
    return Call.create(direction="inbound", status=status, from_number="+447400123456", to_number="+442071838750",
                       owner_id=owner_id, contact_card=contact, **values)


def listed(client, headers):
    answer = client.get("/api/calls/missed", headers=headers)
    assert answer.status_code == 200
    return answer.get_json()


def test_a_rep_sees_missed_calls_of_contacts_they_own_and_of_unowned_callers(client, agent, auth_headers):
    Agent.update(hubspot_owner_id="789").where(Agent.id == agent.id).execute()
    mine = missed_call(owner_id="789", contact={"id": "1001", "name": "Dana Demo", "owner_id": "789"})
    unknown = missed_call()
    missed_call(owner_id="555", contact={"id": "1002", "name": "Someone Else's", "owner_id": "555"})
    body = listed(client, auth_headers)
    assert [c["id"] for c in body["calls"]] == [unknown.id, mine.id]
    assert body["calls"][1]["contact"] == {"id": "1001", "name": "Dana Demo"}
    assert body["calls"][0]["contact"] is None and body["calls"][0]["from"] == "+447400123456"
    assert body["unseen"] == 2


def test_a_rep_without_a_hubspot_owner_sees_only_unowned_callers(client, auth_headers):
    missed_call(owner_id="789")
    unknown = missed_call()
    assert [c["id"] for c in listed(client, auth_headers)["calls"]] == [unknown.id]


def test_answered_ringing_outbound_and_week_old_calls_are_not_missed(client, agent, auth_headers):
    missed_call(status="completed", answered_at=utcnow(), agent=agent)
    missed_call(status="ringing")
    Call.create(direction="outbound", status="no-answer", from_number="+442071838750", to_number="+447400123456",
                agent=agent)
    missed_call(started_at=utcnow() - timedelta(days=8))
    assert listed(client, auth_headers) == {"calls": [], "unseen": 0}


def test_each_missed_call_says_why(client, agent, make_agent, auth_headers):
    nobody = missed_call()
    declined = missed_call()
    CallRing.create(call=declined, agent=agent, declined_at=utcnow())
    rang_out = missed_call()
    CallRing.create(call=rang_out, agent=make_agent(email="bo@example.com"))
    reasons = {c["id"]: c["reason"] for c in listed(client, auth_headers)["calls"]}
    assert reasons == {nobody.id: "Nobody was available", declined.id: "Declined", rang_out.id: "Not answered"}


def test_opening_the_list_clears_the_badge_up_to_what_it_showed(client, auth_headers):
    first, second = missed_call(), missed_call()
    seen = client.post("/api/calls/missed/seen", json={"up_to": first.id}, headers=auth_headers)
    assert seen.status_code == 200 and seen.get_json() == {"unseen": 1}
    assert listed(client, auth_headers)["unseen"] == 1
    # A mark beyond the newest call stops at it: calls missed later still count.
    assert client.post("/api/calls/missed/seen", json={"up_to": 10**9}, headers=auth_headers).get_json() == {"unseen": 0}
    missed_call()
    assert listed(client, auth_headers)["unseen"] == 1
    # An older mark never moves the badge back.
    client.post("/api/calls/missed/seen", json={"up_to": second.id - 1}, headers=auth_headers)
    assert listed(client, auth_headers)["unseen"] == 1


def test_bad_marks_are_a_400_and_strangers_a_401(client, auth_headers):
    for body in ({}, {"up_to": "soon"}, {"up_to": True}):
        answer = client.post("/api/calls/missed/seen", json=body, headers=auth_headers)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] in ("missing_field", "invalid_field")
    assert client.get("/api/calls/missed").status_code == 401
    assert client.post("/api/calls/missed/seen", json={"up_to": 1}).status_code == 401


def test_a_call_nobody_could_take_tells_the_reps_who_see_it(app, db, make_agent, socket_inbox, twilio_post, http_mock):
    """Unavailable reps are not rung, but their widgets hear of the missed call (the badge)."""
    owner = make_agent(email="owner@example.com", hubspot_owner_id="789")
    other = make_agent(email="other@example.com", hubspot_owner_id="555")
    inboxes = {agent.id: socket_inbox(agent) for agent in (owner, other)}
    from widget_app.calls import inbound
    from widget_app.hubspot import contacts
    original = contacts.find_contact_by_phone
    contacts.find_contact_by_phone = lambda phone: {"id": "1001", "name": "Dana Demo", "owner_id": "789"}
    try:
        with app.test_request_context():
            ring = inbound.receive("CA" + "e" * 32, "whatsapp:+447400123456", "whatsapp:+442071838750")
    finally:
        contacts.find_contact_by_phone = original
    assert ring.agents == []
    assert {"type": "missed_call", "call_id": ring.call.id} in inboxes[owner.id]
    assert inboxes[other.id] == []
