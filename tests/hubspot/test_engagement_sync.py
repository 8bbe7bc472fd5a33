"""The outbox: every saved call reaches HubSpot's timeline exactly once, whatever HubSpot or we do."""
import json
from datetime import timedelta

import pytest
from freezegun import freeze_time
from responses import matchers

from tests.helpers import HUBSPOT_API, TEST_SETTINGS
from widget_app.core.clock import utcnow
from widget_app.hubspot import engagements, outbox
from widget_app.hubspot.engagements import drain, enqueue_call_sync
from widget_app.models import Call, EngagementSync

CALLS = f"{HUBSPOT_API}/crm/objects/2026-03/calls"
CONTACT_SEARCH = f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search"
READY = f"{HUBSPOT_API}/crm/extensions/calling/2026-03/recordings/ready"
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
SID = "CA" + "c" * 32
NOW = "2025-05-01 12:05:00"


def hubspot_call(call_id, properties=None):
    return {"id": call_id, "properties": {"hs_object_id": call_id, **(properties or {})},
            "createdAt": "2025-05-01T12:05:00.000Z", "updatedAt": "2025-05-01T12:05:00.000Z", "archived": False}


def expected_properties(**changes):
    props = {"hs_timestamp": "2025-05-01T12:00:00.000Z", "hs_call_title": "WhatsApp call with +447400123456",
             "hs_call_status": "COMPLETED", "hs_call_direction": "OUTBOUND", "hs_call_from_number": "+442071838750",
             "hs_call_to_number": "+447400123456", "hs_call_duration": "95000", "hs_call_body": "Talked pricing",
             "hs_call_disposition": CONNECTED, "hubspot_owner_id": "11349275740",
             "hs_call_source": "INTEGRATIONS_PLATFORM", "hs_call_external_id": SID,
             "hs_call_app_id": TEST_SETTINGS["HUBSPOT_APP_ID"],
             "hs_call_external_account_id": TEST_SETTINGS["TWILIO_ACCOUNT_SID"]}
    props.update(changes)
    return {k: v for k, v in props.items() if v is not None}


class FakeHubSpotCalls:
    """HubSpot's calls object behind `responses`: creates, patches and searches like the real one."""

    def __init__(self, http_mock, fail_creates=()):
        self.records, self.creates, self.patches, self.searches = {}, [], [], []
        self.fail_creates = list(fail_creates)  # statuses to answer the next creates with
        http_mock.add_callback("POST", CALLS, callback=self.create)
        http_mock.add_callback("POST", f"{CALLS}/search", callback=self.search)
        http_mock.add_callback("PATCH", matchers_re(), callback=self.patch)

    def create(self, request):
        if self.fail_creates:
            return self.fail_creates.pop(0), {}, json.dumps({"status": "error", "message": "internal error"})
        body = json.loads(request.body)
        call_id = str(17591596434 + len(self.records))
        self.records[call_id] = body
        self.creates.append(body)
        return 201, {}, json.dumps(hubspot_call(call_id, body["properties"]))

    def search(self, request):
        body = json.loads(request.body)
        self.searches.append(body)
        wanted = {f["value"] for g in body["filterGroups"] for f in g["filters"]
                  if f["propertyName"] == "hs_call_external_id"}
        found = [hubspot_call(i, r["properties"]) for i, r in self.records.items()
                 if r["properties"]["hs_call_external_id"] in wanted]
        return 200, {}, json.dumps({"total": len(found), "results": found})

    def patch(self, request):
        call_id = request.url.rsplit("/", 1)[1]
        self.patches.append((call_id, json.loads(request.body)))
        return 200, {}, json.dumps(hubspot_call(call_id, json.loads(request.body)["properties"]))


def matchers_re():
    import re
    return re.compile(re.escape(CALLS) + r"/\d+$")


def saved(make_call, **fields):
    """A finished outbound call of an agent with a HubSpot owner, its notes saved and queued."""
    call = make_call(**{"notes": "Talked pricing", "outcome": CONNECTED, **fields})
    call.agent.hubspot_owner_id = "11349275740"
    call.agent.save()
    enqueue_call_sync(call)
    return call


def test_update_sends_the_exact_patch_for_the_engagement_hubspot_made(app, app_ctx, make_call, http_mock,
                                                                      hubspot_sleeps):
    call = saved(make_call, engagement_id="17591596434")
    http_mock.patch(f"{CALLS}/17591596434", json=hubspot_call("17591596434"),
                    match=[matchers.json_params_matcher({"properties": expected_properties()}),
                           matchers.header_matcher({"Authorization": "Bearer test-hubspot-token"})])
    assert drain(app) == 1
    assert len(http_mock.calls) == 1
    assert outbox.sync_json(EngagementSync.get(EngagementSync.call == call.id))["status"] == "synced"


def test_create_sends_the_exact_post_with_the_contact_association(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    call = saved(make_call, contact_id="104901", sid=None, recording_url="https://calls.example.com/rec/1.mp3")
    body = {"properties": expected_properties(hs_call_external_id=f"wa-call-{call.id}",
                                              hs_call_recording_url="https://calls.example.com/rec/1.mp3"),
            "associations": [{"to": {"id": "104901"},
                              "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}]}
    http_mock.post(CALLS, status=201, json=hubspot_call("17591596434"), match=[matchers.json_params_matcher(body)])
    http_mock.post(READY, status=204, match=[matchers.json_params_matcher({"engagementId": 17591596434})])
    drain(app)
    assert [c.request.url for c in http_mock.calls] == [CALLS, READY]  # the recording: HubSpot may transcribe it
    assert Call.get_by_id(call.id).engagement_id == "17591596434"


def test_two_rate_limits_then_success_writes_the_engagement_once(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    call = saved(make_call, engagement_id="17591596434")
    limited = {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
               "errorType": "RATE_LIMIT", "correlationId": "c0", "policyName": "TEN_SECONDLY_ROLLING"}
    for _ in range(2):
        http_mock.patch(f"{CALLS}/17591596434", status=429, json=limited,
                        headers={"X-HubSpot-RateLimit-Interval-Milliseconds": "10000"})
    http_mock.patch(f"{CALLS}/17591596434", json=hubspot_call("17591596434"))
    drain(app)
    drain(app)  # nothing left to do: no second write
    assert [c.response.status_code for c in http_mock.calls] == [429, 429, 200]
    assert hubspot_sleeps == [10.0, 10.0]
    assert EngagementSync.get(EngagementSync.call == call.id).status == "done"


class WorkerDied(BaseException):
    """The process went away (kill -9, deploy) between HubSpot's answer and our bookkeeping."""


def test_server_error_then_a_worker_dying_mid_write_still_writes_once(app, app_ctx, make_call, http_mock, monkeypatch,
                                                                      hubspot_sleeps):
    hubspot = FakeHubSpotCalls(http_mock, fail_creates=[500])
    with freeze_time(NOW) as clock:
        call = saved(make_call, sid=None, contact_id="104901")
        drain(app)  # 500: HubSpot may or may not have it; the row waits with the error shown
        row = EngagementSync.get(EngagementSync.call == call.id)
        assert row.status == "pending" and "500" in row.last_error and hubspot.creates == []

        real_remember = engagements._remember

        def die(*args):
            raise WorkerDied()
        monkeypatch.setattr(engagements, "_remember", die)
        clock.tick(timedelta(hours=1))
        with pytest.raises(WorkerDied):
            drain(app)  # HubSpot created it, then the worker vanished before storing the id
        assert len(hubspot.creates) == 1 and Call.get_by_id(call.id).engagement_id is None

        monkeypatch.setattr(engagements, "_remember", real_remember)
        assert drain(app) == 0  # a new worker leaves the dead one's lease alone until it expires
        clock.tick(outbox.LEASE + timedelta(seconds=1))
        drain(app)

    assert len(hubspot.creates) == 1 and hubspot.patches == []
    assert Call.get_by_id(call.id).engagement_id == "17591596434"
    assert EngagementSync.get(EngagementSync.call == call.id).status == "done"
    search = hubspot.searches[-1]["filterGroups"][0]["filters"]
    assert {"propertyName": "hs_call_external_id", "operator": "EQ", "value": f"wa-call-{call.id}"} in search


def test_a_lost_create_is_found_and_brought_up_to_date_when_notes_changed_since(app, app_ctx, make_call, http_mock,
                                                                                monkeypatch, hubspot_sleeps):
    hubspot = FakeHubSpotCalls(http_mock)
    with freeze_time(NOW) as clock:
        call = saved(make_call, contact_id="104901")
        monkeypatch.setattr(engagements, "_remember", lambda *a: (_ for _ in ()).throw(WorkerDied()))
        with pytest.raises(WorkerDied):
            drain(app)
        monkeypatch.undo()
        call.notes = "Final notes"
        call.save()
        enqueue_call_sync(call)
        clock.tick(outbox.LEASE + timedelta(seconds=1))
        drain(app)
    assert len(hubspot.creates) == 1
    assert hubspot.patches == [("17591596434", {"properties": expected_properties(hs_call_body="Final notes")})]


def test_a_worker_that_dies_before_writing_hands_over_after_its_lease(app, app_ctx, make_call, http_mock,
                                                                      hubspot_sleeps):
    with freeze_time(NOW) as clock:
        call = saved(make_call, engagement_id="17591596434")
        assert outbox.claim_next() is not None  # worker A takes the row, then dies
        assert outbox.claim_next() is None  # worker B may not touch it meanwhile
        clock.tick(outbox.LEASE + timedelta(seconds=1))
        http_mock.patch(f"{CALLS}/17591596434", json=hubspot_call("17591596434"))
        drain(app)
    assert len(http_mock.calls) == 1
    assert EngagementSync.get(EngagementSync.call == call.id).status == "done"


def test_hubspot_refusal_fails_with_its_message_until_retried_after_a_fix(app, app_ctx, client, make_call, auth_headers,
                                                                          http_mock, hubspot_sleeps):
    call = saved(make_call, engagement_id="17591596434")
    http_mock.patch(f"{CALLS}/17591596434", status=400,
                    json={"status": "error", "message": "Property values were not valid: hubspot_owner_id",
                          "correlationId": "a43683b0", "category": "VALIDATION_ERROR"})
    drain(app)
    listed = client.get("/api/calls", headers=auth_headers).get_json()["calls"][0]
    assert listed["sync"]["status"] == "failed"
    assert "Property values were not valid: hubspot_owner_id" in listed["sync"]["error"]
    assert "a43683b0" in listed["sync"]["error"]
    drain(app)
    assert len(http_mock.calls) == 1  # a failed write waits for the agent, it does not loop

    http_mock.replace("PATCH", f"{CALLS}/17591596434", json=hubspot_call("17591596434"))
    assert client.post(f"/api/calls/{call.id}/sync/retry", headers=auth_headers).status_code == 202
    drain(app)
    listed = client.get("/api/calls", headers=auth_headers).get_json()["calls"][0]
    assert listed["sync"] == {"status": "synced", "error": None, "attempts": 1, "next_attempt_at": None}


def test_a_portal_validation_rule_refusing_the_create_is_shown_and_retried_after_the_admin_fixes_it(
        app, app_ctx, client, make_call, auth_headers, http_mock, hubspot_sleeps):
    """From API version 2026-09 HubSpot applies the portal's own rules (e.g. a property required on create) to our
    writes: a 400 VALIDATION_ERROR. The rep sees HubSpot's words; nothing loops; a retry after the fix writes it."""
    call = saved(make_call, contact_id="104901")
    rule = "hs_call_disposition is required when creating a call in this account"
    http_mock.post(CALLS, status=400, json={
        "status": "error", "category": "VALIDATION_ERROR", "correlationId": "9b2d5c1e", "message": rule,
        "errors": [{"message": rule, "code": "REQUIRED_PROPERTY", "context": {"propertyName": ["hs_call_disposition"]}}]})
    drain(app)
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "failed" and rule in row.last_error and "9b2d5c1e" in row.last_error
    listed = client.get("/api/calls", headers=auth_headers).get_json()["calls"][0]
    assert listed["sync"]["status"] == "failed" and rule in listed["sync"]["error"]
    drain(app)
    assert len(http_mock.calls) == 1  # refused: it waits for a person, it is not resent on every pass

    http_mock.replace("POST", CALLS, status=201, json=hubspot_call("17591596434"))
    http_mock.post(f"{CALLS}/search", json={"total": 0, "results": []})  # the outbox looks before a second create
    assert client.post(f"/api/calls/{call.id}/sync/retry", headers=auth_headers).status_code == 202
    drain(app)
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "done" and row.last_error is None and row.engagement_id == "17591596434"


def test_notes_saved_twice_before_the_sync_reach_hubspot_once_with_the_final_text(app, app_ctx, client, make_call,
                                                                                  auth_headers,
                                                                                  http_mock, hubspot_sleeps):
    call = make_call(engagement_id="17591596434")
    http_mock.patch(f"{CALLS}/17591596434", json=hubspot_call("17591596434"))
    for notes in ("First draft", "Final notes"):
        assert client.post(f"/api/calls/{call.id}/complete", json={"notes": notes, "outcome": CONNECTED},
                           headers=auth_headers).status_code == 202
    drain(app)
    assert len(http_mock.calls) == 1
    sent = json.loads(http_mock.calls[0].request.body)["properties"]
    assert sent["hs_call_body"] == "Final notes" and sent["hs_call_disposition"] == CONNECTED


def test_notes_saved_while_a_write_is_in_flight_are_written_next(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    call = saved(make_call, engagement_id="17591596434")
    bodies = []

    def patch(request):
        bodies.append(json.loads(request.body)["properties"]["hs_call_body"])
        if len(bodies) == 1:  # the agent saves again while HubSpot is answering the first write
            Call.update(notes="Edited meanwhile").where(Call.id == call.id).execute()
            enqueue_call_sync(Call.get_by_id(call.id))
        return 200, {}, json.dumps(hubspot_call("17591596434"))
    http_mock.add_callback("PATCH", f"{CALLS}/17591596434", callback=patch)
    drain(app)
    assert bodies == ["Talked pricing", "Edited meanwhile"]
    assert EngagementSync.get(EngagementSync.call == call.id).status == "done"


def test_inbound_call_without_engagement_is_created_for_the_matched_contact(app, app_ctx, make_call, agent, http_mock,
                                                                            hubspot_sleeps):
    call = make_call(direction="inbound", from_number="+447400123456", to_number="+442071838750", sid="CA" + "d" * 32)
    enqueue_call_sync(call)
    http_mock.post(CONTACT_SEARCH, json={"total": 1, "results": [{
        "id": "104901", "properties": {"firstname": "Ana", "lastname": "Souza", "email": "ana@example.com",
                                       "phone": "+44 7400 123456", "hubspot_owner_id": "11349275740"},
        "createdAt": "2024-10-01T10:00:00.000Z", "updatedAt": "2025-04-30T09:00:00.000Z", "archived": False}]})
    http_mock.post(CALLS, status=201, json=hubspot_call("17591596999"), match=[matchers.json_params_matcher({
        "associations": [{"to": {"id": "104901"},
                          "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}],
        "properties": {"hs_call_direction": "INBOUND", "hs_call_from_number": "+447400123456",
                       "hs_call_external_id": "CA" + "d" * 32, "hs_call_status": "COMPLETED"}}, strict_match=False)])
    drain(app)
    call = Call.get_by_id(call.id)
    assert (call.engagement_id, call.contact_id) == ("17591596999", "104901")
    assert [c.request.url for c in http_mock.calls] == [CONTACT_SEARCH, CALLS]


def test_missed_inbound_call_is_logged_as_missed_without_a_contact(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    call = make_call(direction="inbound", from_number="+447700900999", to_number="+442071838750",
                     status="no-answer", answered_at=None, duration_seconds=0, sid="CA" + "e" * 32)
    enqueue_call_sync(call)
    http_mock.post(CONTACT_SEARCH, json={"total": 0, "results": []})
    http_mock.post(CALLS, status=201, json=hubspot_call("1"), match=[matchers.json_params_matcher(
        {"associations": [], "properties": {"hs_call_status": "MISSED", "hs_call_duration": "0"}}, strict_match=False)])
    drain(app)
    assert Call.get_by_id(call.id).engagement_id == "1"


def test_the_outbox_row_rolls_back_with_the_call_change(app, app_ctx, db, make_call):
    call = make_call(engagement_id="17591596434")
    with pytest.raises(RuntimeError), db.atomic():
        Call.update(notes="never saved").where(Call.id == call.id).execute()
        enqueue_call_sync(Call.get_by_id(call.id))
        raise RuntimeError("the request failed after queueing")
    assert EngagementSync.select().count() == 0 and Call.get_by_id(call.id).notes is None


def test_an_unchanged_call_is_not_written_again(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    call = saved(make_call, engagement_id="17591596434")
    http_mock.patch(f"{CALLS}/17591596434", json=hubspot_call("17591596434"))
    drain(app)
    enqueue_call_sync(Call.get_by_id(call.id))  # e.g. a late duplicate status callback
    drain(app)
    assert len(http_mock.calls) == 1


def test_flask_sync_run_once_drains_what_is_due(app, app_ctx, runner, make_call, http_mock, hubspot_sleeps):
    saved(make_call, engagement_id="17591596434")
    http_mock.patch(f"{CALLS}/17591596434", json=hubspot_call("17591596434"))
    result = runner.invoke(args=["sync", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "Attempted 1 HubSpot write" in result.output and len(http_mock.calls) == 1


def test_transient_failures_back_off_and_keep_the_row_pending(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    with freeze_time(NOW) as clock:
        call = saved(make_call, sid=None)
        http_mock.post(CONTACT_SEARCH, json={"total": 0, "results": []})
        http_mock.post(CALLS, status=502, json={"status": "error", "message": "Bad gateway"})
        drain(app)
        first = EngagementSync.get(EngagementSync.call == call.id).next_attempt_at
        assert timedelta(seconds=24) <= first - utcnow() <= timedelta(seconds=36)
        clock.move_to(first + timedelta(seconds=1))
        http_mock.post(f"{CALLS}/search", json={"total": 0, "results": []})
        drain(app)
        row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "pending" and row.attempts == 2
    assert timedelta(seconds=48) <= row.next_attempt_at - first <= timedelta(seconds=73)


def test_concurrent_workers_never_write_the_same_row_twice(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    import re
    import threading
    calls = [saved(make_call, sid=f"CA{i:032d}", engagement_id=str(1000 + i)) for i in range(12)]
    http_mock.patch(re.compile(re.escape(CALLS) + r"/\d+$"), json=hubspot_call("1"))
    workers = [threading.Thread(target=drain, args=(app,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    written = sorted(c.request.url.rsplit("/", 1)[1] for c in http_mock.calls)
    assert written == sorted(str(1000 + i) for i in range(len(calls)))
    assert EngagementSync.select().where(EngagementSync.status == "done").count() == len(calls)


def test_the_web_process_thread_drains_the_outbox_in_demo_mode(make_app):
    import time

    from werkzeug.security import generate_password_hash

    from widget_app.models import Agent, db
    app = make_app(WIDGET_MODE="demo", TESTING=False, SYNC_WORKER=True)
    with app.app_context(), db.connection_context():
        agent = Agent.create(email="demo@example.com", name="Demo", password_hash=generate_password_hash("demo"),
                             hubspot_owner_id="789")
        call = Call.create(direction="inbound", status="completed", from_number="+447400123456",
                           to_number="+442071838750", agent=agent, sid="CA" + "f" * 32, duration_seconds=30)
        enqueue_call_sync(call)
    try:
        app.test_client().get("/healthz")  # serving a request starts the worker thread
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with db.connection_context():
                call = Call.get_by_id(call.id)
            if call.engagement_id:
                break
            time.sleep(0.05)
    finally:
        app.extensions["hubspot_sync_stop"].set()
        app.extensions["hubspot_sync_thread"].join(timeout=5)
    assert call.engagement_id and call.contact_id == "1001"  # Dana Demo, found by the demo cloud's search
    cloud = app.extensions["hubspot_demo_cloud"]
    assert cloud.calls[call.engagement_id]["properties"]["hs_call_direction"] == "INBOUND"


def test_leases_hold_on_every_database(make_app, database_url, http_mock, hubspot_sleeps):
    import re
    import threading

    from widget_app.models import Agent, db
    app = make_app(DATABASE_URL=database_url)
    app.extensions["hubspot_sleep"] = hubspot_sleeps.append
    with app.app_context(), db.connection_context():
        agent = Agent.create(email="a@example.com", name="A", password_hash="x")
        for i in range(8):
            enqueue_call_sync(Call.create(direction="outbound", from_number="+442071838750", agent=agent,
                                          to_number="+447400123456", sid=f"CA{i:032d}", engagement_id=str(i + 1)))
        first = outbox.claim_next()
        assert first is not None and outbox.claim_next().row.id != first.row.id
    http_mock.patch(re.compile(re.escape(CALLS) + r"/\d+$"), json=hubspot_call("1"))
    workers = [threading.Thread(target=drain, args=(app,)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert len(http_mock.calls) == 6  # the two leased rows wait for their (live) leases
    with db.connection_context():
        assert EngagementSync.select().where(EngagementSync.status == "done").count() == 6


def test_an_engagement_id_clobbered_by_a_stale_save_is_not_created_twice(app, app_ctx, make_call, http_mock,
                                                                         hubspot_sleeps):
    call = saved(make_call, contact_id="104901")
    stale = Call.get_by_id(call.id)
    http_mock.post(CALLS, status=201, json=hubspot_call("17591596434"))
    drain(app)
    stale.notes = "Edited by a handler holding an old copy"
    stale.save()  # writes engagement_id=None back
    enqueue_call_sync(stale)
    http_mock.patch(f"{CALLS}/17591596434", json=hubspot_call("17591596434"))
    drain(app)
    assert [c.request.method for c in http_mock.calls] == ["POST", "PATCH"]
    assert Call.get_by_id(call.id).engagement_id == "17591596434"
