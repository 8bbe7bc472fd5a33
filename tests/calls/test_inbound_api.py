"""Inbound call API: what rings for me, first accept wins, declines, presence; and the demo call-in."""
from datetime import timedelta

import pytest
from freezegun import freeze_time

from widget_app.calls import inbound
from widget_app.core.clock import utcnow
from widget_app.models import Agent, Call, CallRing

CALLER, SENDER = "+447400123456", "+442071838750"


@pytest.fixture
def team(make_agent):
    return [make_agent(email=f"{name}@example.com", name=name.title()) for name in ("ana", "bob", "cy")]


@pytest.fixture
def rung_call(team):
    """An inbound call ringing for Ana and Bob (not Cy), as routing leaves it."""
    now = utcnow()
    call = Call.create(direction="inbound", status="ringing", from_number=CALLER, to_number=SENDER,
                       sid="CA" + "9" * 32, contact_id="501", started_at=now,
                       contact_card={"id": "501", "name": "Dana Demo", "owner_id": "789"})
    for agent in team[:2]:
        CallRing.create(call=call, agent=agent, rung_at=now)
    return call


def test_ringing_lists_calls_that_rang_for_me_with_the_contact(client, team, rung_call, headers_for):
    ana, _, cy = team
    answer = client.get("/api/calls/ringing", headers=headers_for(ana)).get_json()
    assert [(m["type"], m["call"]["id"], m["contact"]["name"]) for m in answer["calls"]] == \
        [("incoming_call", rung_call.id, "Dana Demo")]
    assert client.get("/api/calls/ringing", headers=headers_for(cy)).get_json() == {"calls": []}


def test_ringing_forgets_calls_older_than_a_minute(client, team, rung_call, headers_for):
    with freeze_time(utcnow() + timedelta(seconds=61)):
        answer = client.get("/api/calls/ringing", headers=headers_for(team[0])).get_json()
    assert answer == {"calls": []}


def test_first_accept_takes_the_call_and_the_others_stop_ringing(client, team, rung_call, socket_inbox, headers_for):
    ana, bob, cy = team
    inboxes = {agent.name: socket_inbox(agent) for agent in team}
    first = client.post(f"/api/calls/{rung_call.id}/accept", headers=headers_for(bob))
    assert first.status_code == 200 and first.get_json()["call"]["agent_id"] == bob.id
    assert inboxes == {"Ana": [{"type": "call_claimed", "call_id": rung_call.id}], "Bob": [], "Cy": []}

    second = client.post(f"/api/calls/{rung_call.id}/accept", headers=headers_for(ana))
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "already_claimed"
    assert Call.get_by_id(rung_call.id).agent_id == bob.id
    again = client.post(f"/api/calls/{rung_call.id}/accept", headers=headers_for(bob))
    assert again.status_code == 200  # a retried accept by the winner
    assert client.get("/api/calls/ringing", headers=headers_for(ana)).get_json() == {"calls": []}
    assert len(client.get("/api/calls/ringing", headers=headers_for(bob)).get_json()["calls"]) == 1


def test_accept_of_a_call_that_did_not_ring_for_me_is_not_found(client, team, rung_call, headers_for):
    answer = client.post(f"/api/calls/{rung_call.id}/accept", headers=headers_for(team[2]))
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/calls/999999/accept", headers=headers_for(team[0])).status_code == 404


def test_accept_of_a_missed_call_is_refused(client, team, rung_call, headers_for):
    Call.update(status="no-answer").where(Call.id == rung_call.id).execute()
    answer = client.post(f"/api/calls/{rung_call.id}/accept", headers=headers_for(team[0]))
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "call_not_ringing"


def test_declines_stop_my_ring_and_the_last_one_makes_the_call_missed(client, team, rung_call, socket_inbox, headers_for):
    ana, bob, _ = team
    inboxes = [socket_inbox(ana), socket_inbox(bob)]
    first = client.post(f"/api/calls/{rung_call.id}/decline", headers=headers_for(ana))
    assert first.status_code == 200 and first.get_json()["call"]["status"] == "ringing"
    assert client.get("/api/calls/ringing", headers=headers_for(ana)).get_json() == {"calls": []}
    assert inboxes == [[], []]

    last = client.post(f"/api/calls/{rung_call.id}/decline", headers=headers_for(bob))
    assert last.get_json()["call"]["status"] == "no-answer"
    assert all([(m["type"], m["call"]["status"]) for m in inbox if m["type"] == "call_status"]
               == [("call_status", "no-answer")] for inbox in inboxes)
    assert all([m for m in inbox if m["type"] == "missed_call"] == [{"type": "missed_call", "call_id": rung_call.id}]
               for inbox in inboxes)  # the Missed badge


def test_a_decline_after_someone_accepted_changes_nothing(client, team, rung_call, headers_for):
    ana, bob, _ = team
    client.post(f"/api/calls/{rung_call.id}/accept", headers=headers_for(ana))
    client.post(f"/api/calls/{rung_call.id}/decline", headers=headers_for(bob))
    call = Call.get_by_id(rung_call.id)
    assert (call.status, call.agent_id) == ("ringing", ana.id)


@pytest.mark.parametrize("available", [True, False])
def test_presence_is_stored(app, client, agent, auth_headers, available):
    Agent.update(available=not available).where(Agent.id == agent.id).execute()
    answer = client.post("/api/presence", json={"available": available}, headers=auth_headers)
    assert answer.status_code == 200 and answer.get_json()["agent"]["available"] is available
    assert Agent.get_by_id(agent.id).available is available


@pytest.mark.parametrize("body, code", [({}, "missing_field"), ({"available": "yes"}, "invalid_field"),
                                        ([True], "invalid_json")])
def test_presence_rejects_bad_bodies(client, auth_headers, body, code):
    answer = client.post("/api/presence", json=body, headers=auth_headers)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code


@pytest.mark.parametrize("method, path", [("get", "/api/calls/ringing"), ("post", "/api/calls/1/accept"),
                                          ("post", "/api/calls/1/decline"), ("post", "/api/presence")])
def test_inbound_api_needs_a_token(client, method, path):
    answer = getattr(client, method)(path)
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthorized"


def test_demo_routes_do_not_exist_in_live_mode(client):
    assert client.post("/dev/api/contact/call-in", json={}).status_code == 404


def test_demo_contact_calls_in_is_answered_and_hangs_up_through_the_real_webhooks(make_app, make_agent, headers_for):
    """The simulator's buttons: signed /twilio/voice, then the answered leg's callbacks, then hang-up."""
    app = make_app(WIDGET_MODE="demo")
    client = app.test_client()
    owner = make_agent(email="demo@example.com", hubspot_owner_id="789", available=True, last_seen_at=utcnow())
    inbox = []
    app.extensions["realtime"].add(owner.id, type("Ws", (), {"send": lambda self, t: inbox.append(t)})())

    rang = client.post("/dev/api/contact/call-in", json={})
    assert rang.status_code == 201
    call = rang.get_json()["call"]
    assert (call["direction"], call["status"], call["from"]) == ("inbound", "ringing", CALLER)
    assert f"<Identity>agent_{owner.id}</Identity>" in rang.get_json()["twiml"]
    assert '"incoming_call"' in inbox[0]  # at once; the contact card follows when HubSpot answers
    assert inbound.wait_for_look_ups(app) and '"call_contact"' in inbox[1] and '"Dana Demo"' in inbox[1]

    headers = headers_for(owner, app)
    early = client.post("/dev/api/voice/inbound-answer", json={"call_id": call["id"]})
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_claimed"
    assert client.post(f"/api/calls/{call['id']}/accept", headers=headers).status_code == 200
    answered = client.post("/dev/api/voice/inbound-answer", json={"call_id": call["id"]}).get_json()["call"]
    assert answered["status"] == "in-progress" and answered["answered_at"]

    ended = client.post("/dev/api/contact/hang-up-inbound", json={"call_id": call["id"]}).get_json()["call"]
    assert ended["status"] == "completed" and ended["ended_at"] and ended["agent_id"] == owner.id


def test_demo_hang_up_while_ringing_is_a_missed_call(make_app, make_agent):
    app = make_app(WIDGET_MODE="demo")
    client = app.test_client()
    make_agent(available=True, last_seen_at=utcnow())
    call = client.post("/dev/api/contact/call-in", json={"phone": "+44 20 7946 0000"}).get_json()["call"]
    assert call["from"] == "+442079460000"
    ended = client.post("/dev/api/contact/hang-up-inbound", json={"call_id": call["id"]}).get_json()["call"]
    assert ended["status"] == "no-answer"
    assert client.post("/dev/api/contact/call-in", json={"phone": "12"}).status_code == 400
    assert client.post("/dev/api/contact/hang-up-inbound", json={"call_id": 99999}).status_code == 404
