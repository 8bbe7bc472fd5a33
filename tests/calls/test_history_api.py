"""The widget's call-ended screen and history: save notes (202, queued), list calls with sync state, retry."""
import pytest

from widget_app.models import Call, EngagementSync

CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"


def test_complete_saves_notes_and_outcome_and_queues_the_hubspot_write(client, make_call, auth_headers):
    call = make_call()
    response = client.post(f"/api/calls/{call.id}/complete", json={"notes": "Wants a demo", "outcome": CONNECTED},
                           headers=auth_headers)
    assert response.status_code == 202
    body = response.get_json()
    assert body["call"]["notes"] == "Wants a demo" and body["call"]["outcome"] == CONNECTED
    assert body["sync"]["status"] == "pending" and body["sync"]["error"] is None
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.payload["properties"]["hs_call_body"] == "Wants a demo"
    assert row.payload["properties"]["hs_call_disposition"] == CONNECTED


def test_complete_accepts_a_call_sid_and_no_outcome(client, make_call, auth_headers):
    call = make_call()
    response = client.post(f"/api/calls/{call.sid}/complete", json={"notes": "ok", "outcome": ""},
                           headers=auth_headers)
    assert response.status_code == 202 and response.get_json()["call"]["outcome"] is None


@pytest.mark.parametrize("body, field", [
    ({"notes": "x", "outcome": "Connected"}, "outcome"),
    ({"notes": "x" * 65536}, "notes"),
    ({"notes": 42}, "notes"),
])
def test_complete_rejects_bad_input_and_queues_nothing(client, make_call, auth_headers, body, field):
    call = make_call()
    response = client.post(f"/api/calls/{call.id}/complete", json=body, headers=auth_headers)
    assert response.status_code == 400 and response.get_json()["error"]["field"] == field
    assert EngagementSync.select().count() == 0 and Call.get_by_id(call.id).notes is None


def test_notes_up_to_hubspots_limit_are_accepted_even_when_escaped(client, make_call, auth_headers):
    call = make_call()
    response = client.post(f"/api/calls/{call.id}/complete", json={"notes": "é" * 65535}, headers=auth_headers)
    assert response.status_code == 202 and len(Call.get_by_id(call.id).notes) == 65535


def test_another_agents_call_is_not_found(client, make_call, make_agent, auth_headers):
    theirs = make_call(agent=make_agent(email="bo@example.com"))
    for path in (f"/api/calls/{theirs.id}/complete", f"/api/calls/{theirs.id}/sync/retry"):
        response = client.post(path, json={"notes": "mine now"}, headers=auth_headers)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "call_not_found"
    assert Call.get_by_id(theirs.id).notes is None


def test_every_route_needs_a_signed_in_agent(client, make_call):
    call = make_call()
    assert client.post(f"/api/calls/{call.id}/complete", json={}).status_code == 401
    assert client.get("/api/calls").status_code == 401
    assert client.post(f"/api/calls/{call.id}/sync/retry").status_code == 401


def test_history_lists_own_calls_newest_first_with_their_sync_state(client, make_call, make_agent, auth_headers):
    first = make_call(sid="CA" + "1" * 32)
    second = make_call(sid="CA" + "2" * 32)
    make_call(sid="CA" + "3" * 32, agent=make_agent(email="bo@example.com"))
    client.post(f"/api/calls/{second.id}/complete", json={"notes": "n"}, headers=auth_headers)
    calls = client.get("/api/calls", headers=auth_headers).get_json()["calls"]
    assert [c["id"] for c in calls] == [second.id, first.id]
    assert calls[0]["sync"]["status"] == "pending" and calls[1]["sync"]["status"] == "none"


def test_history_pages_with_limit_and_before(client, make_call, auth_headers):
    ids = [make_call(sid=f"CA{i:032d}").id for i in range(5)]
    page = client.get("/api/calls?limit=2", headers=auth_headers).get_json()["calls"]
    assert [c["id"] for c in page] == ids[:2:-1][:2]
    older = client.get(f"/api/calls?limit=2&before={page[-1]['id']}", headers=auth_headers).get_json()["calls"]
    assert [c["id"] for c in older] == [ids[2], ids[1]]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "before=yesterday"])
def test_history_rejects_bad_paging(client, auth_headers, query):
    response = client.get(f"/api/calls?{query}", headers=auth_headers)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_field"


def test_retry_requeues_a_failed_write_now(client, db, make_call, auth_headers):
    call = make_call()
    EngagementSync.create(call=call, payload={}, status="failed", attempts=3, last_error="HubSpot 400: bad owner")
    response = client.post(f"/api/calls/{call.id}/sync/retry", headers=auth_headers)
    assert response.status_code == 202
    assert response.get_json()["sync"]["status"] == "pending" and response.get_json()["sync"]["error"] is None
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.attempts == 0 and row.payload["properties"]["hs_call_external_id"] == call.sid


def test_retry_of_a_synced_call_is_409(client, db, make_call, auth_headers):
    call = make_call()
    EngagementSync.create(call=call, payload={}, status="done", done=True)
    response = client.post(f"/api/calls/{call.id}/sync/retry", headers=auth_headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "already_synced"
