"""Wrap-up drafts (issue 14, item 1): notes and outcome are kept on the call as they are typed, without
queuing anything for HubSpot, until the agent saves (queued) or discards (confirmed in the widget)."""
import threading

import pytest
import requests
from playhouse.migrate import migrate

from widget_app import db as db_module
from widget_app.models import Agent, Call, EngagementSync, db

CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"


def put_draft(client, call, headers, **body):
    return client.put(f"/api/calls/{call.id}/draft", json=body, headers=headers)


def test_a_draft_keeps_notes_and_outcome_without_queuing_hubspot(client, make_call, auth_headers):
    call = make_call()
    answer = put_draft(client, call, auth_headers, notes="Wants the blue one", outcome=CONNECTED)
    assert answer.status_code == 200
    assert answer.get_json()["call"]["notes"] == "Wants the blue one"
    assert answer.get_json()["call"]["wrapup"] is None
    stored = Call.get_by_id(call.id)
    assert (stored.notes, stored.outcome, stored.wrapup) == ("Wants the blue one", CONNECTED, None)
    assert EngagementSync.select().count() == 0


def test_notes_can_be_drafted_during_the_call(client, make_call, auth_headers):
    call = make_call(initiated=True, status="in-progress", sid="CA" + "d" * 32)
    assert put_draft(client, call, auth_headers, notes="Asked for pricing").status_code == 200
    assert Call.get_by_id(call.id).notes == "Asked for pricing"


def test_the_history_shows_the_draft_until_the_save(client, make_call, auth_headers):
    call = make_call()
    put_draft(client, call, auth_headers, notes="draft", outcome=NO_ANSWER)
    listed = client.get("/api/calls", headers=auth_headers).get_json()["calls"][0]
    assert (listed["notes"], listed["outcome"], listed["wrapup"], listed["sync"]["status"]) == (
        "draft", NO_ANSWER, None, "none")
    client.post(f"/api/calls/{call.id}/complete", json={"notes": "final", "outcome": CONNECTED}, headers=auth_headers)
    listed = client.get("/api/calls", headers=auth_headers).get_json()["calls"][0]
    assert (listed["notes"], listed["wrapup"]) == ("final", "saved")


def test_a_draft_after_the_save_is_refused_and_changes_nothing(client, make_call, auth_headers):
    call = make_call()
    client.post(f"/api/calls/{call.id}/complete", json={"notes": "final", "outcome": CONNECTED}, headers=auth_headers)
    late = put_draft(client, call, auth_headers, notes="a debounced keystroke", outcome="")
    assert late.status_code == 409 and late.get_json()["error"]["code"] == "wrapup_closed"
    assert Call.get_by_id(call.id).notes == "final"
    assert EngagementSync.get(EngagementSync.call == call.id).payload["properties"]["hs_call_body"] == "final"


@pytest.mark.parametrize("body, field", [({"notes": "x" * 65536}, "notes"), ({"outcome": "Connected"}, "outcome"),
                                         ({"notes": 7}, "notes")])
def test_a_bad_draft_is_a_400_and_keeps_the_old_one(client, make_call, auth_headers, body, field):
    call = make_call(notes="kept")
    answer = put_draft(client, call, auth_headers, **body)
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == field
    assert Call.get_by_id(call.id).notes == "kept"


def test_drafts_and_discards_of_another_agents_call_are_not_found(client, make_call, make_agent, auth_headers):
    theirs = make_call(agent=make_agent(email="bo@example.com"), notes="theirs")
    assert put_draft(client, theirs, auth_headers, notes="mine now").status_code == 404
    assert client.post(f"/api/calls/{theirs.id}/discard", headers=auth_headers).status_code == 404
    assert (Call.get_by_id(theirs.id).notes, Call.get_by_id(theirs.id).wrapup) == ("theirs", None)


def test_discard_drops_the_draft_once_and_queues_nothing(client, make_call, auth_headers):
    call = make_call(notes="never mind", outcome=CONNECTED)
    for _ in range(2):  # a retried discard answers the same
        answer = client.post(f"/api/calls/{call.id}/discard", headers=auth_headers)
        assert answer.status_code == 200 and answer.get_json()["call"]["wrapup"] == "discarded"
    stored = Call.get_by_id(call.id)
    assert (stored.notes, stored.outcome, stored.wrapup) == (None, None, "discarded")
    assert EngagementSync.select().count() == 0
    assert put_draft(client, call, auth_headers, notes="again").status_code == 409


def test_a_live_call_cannot_be_discarded(client, make_call, auth_headers):
    call = make_call(initiated=True, status="in-progress", sid="CA" + "d" * 32)
    answer = client.post(f"/api/calls/{call.id}/discard", headers=auth_headers)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "call_not_ended"
    assert Call.get_by_id(call.id).wrapup is None


def test_a_saved_call_cannot_be_discarded(client, make_call, auth_headers):
    call = make_call()
    client.post(f"/api/calls/{call.id}/complete", json={"notes": "final"}, headers=auth_headers)
    answer = client.post(f"/api/calls/{call.id}/discard", headers=auth_headers)
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "wrapup_closed"
    assert Call.get_by_id(call.id).notes == "final"


def test_retry_from_history_saves_the_drafted_notes(client, make_call, auth_headers):
    call = make_call()
    put_draft(client, call, auth_headers, notes="typed before the reload", outcome=CONNECTED)
    assert client.post(f"/api/calls/{call.id}/sync/retry", headers=auth_headers).status_code == 202
    payload = EngagementSync.get(EngagementSync.call == call.id).payload["properties"]
    assert payload["hs_call_body"] == "typed before the reload" and payload["hs_call_disposition"] == CONNECTED
    assert Call.get_by_id(call.id).wrapup == "saved"


def test_the_migration_adds_the_columns_keeps_rows_and_marks_queued_calls_saved(make_app, database_url):
    make_app(DATABASE_URL=database_url)
    with db.connection_context():
        version = db_module.current_version()
        for table, column in (("call", "wrapup"), ("agent", "missed_seen_id")):
            migrate(db_module.migrator().drop_column(table, column))
        db_module.SchemaVersion.delete().where(db_module.SchemaVersion.version >= 6).execute()
        agent_id = db.execute_sql("INSERT INTO agent (email, name, password_hash, active, available, token_version,"
                                  " created_at) VALUES ('old@example.com', 'Old', 'x', true, false, 1, '2025-01-01')"
                                  " RETURNING id").fetchone()[0]
        ids = [db.execute_sql("INSERT INTO call (direction, status, from_number, to_number, agent_id, started_at,"
                              " missed_counted, created_at, updated_at) VALUES ('outbound', 'completed', '+1', '+2',"
                              f" {agent_id}, '2025-01-01', false, '2025-01-01', '2025-01-01') RETURNING id").fetchone()[0]
               for _ in range(2)]
        db.execute_sql("INSERT INTO engagement_sync (call_id, payload, revision, attempts, next_attempt_at, status, done,"
                       f" created_at, updated_at) VALUES ({ids[0]}, '{{}}', 1, 0, '2025-01-01', 'pending', false,"
                       " '2025-01-01', '2025-01-01')")
    assert db_module.upgrade() == [6]
    with db.connection_context():
        assert [Call.get_by_id(i).wrapup for i in ids] == ["saved", None]
        assert Agent.get_by_id(agent_id).missed_seen_id == 0 and db_module.current_version() == version


def test_a_draft_racing_the_save_never_changes_what_hubspot_is_given(make_app, database_url, serve_app, headers_for):
    """Debounced drafts in flight while the agent presses Save, through real concurrent requests: the
    notes on the call always equal the notes queued for HubSpot."""
    app = make_app(DATABASE_URL=database_url, SYNC_WORKER=False)
    with app.app_context(), db.connection_context():
        agent = Agent.create(email="race@example.com", name="Race", password_hash="x")
        calls = [Call.create(direction="outbound", status="completed", from_number="+442071838750",
                             to_number="+447400123456", agent=agent, sid=f"CA{i:032d}") for i in range(6)]
    headers = headers_for(agent)
    base = f"http://{serve_app(app)}"
    for call in calls:
        start = threading.Barrier(5)

        def send(method, path, body, start=start):
            start.wait()
            requests.request(method, base + path, json=body, headers=headers, timeout=30)
        threads = [threading.Thread(target=send, args=("PUT", f"/api/calls/{call.id}/draft", {"notes": f"draft {n}"}))
                   for n in range(4)]
        threads.append(threading.Thread(target=send, args=("POST", f"/api/calls/{call.id}/complete", {"notes": "final"})))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    with db.connection_context():
        for call in calls:
            stored = Call.get_by_id(call.id)
            queued = EngagementSync.get(EngagementSync.call == call.id).payload["properties"]["hs_call_body"]
            assert stored.notes == queued == "final" and stored.wrapup == "saved"
