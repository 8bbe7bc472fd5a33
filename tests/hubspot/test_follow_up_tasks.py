"""A HubSpot follow-up task for every missed call, through the same outbox as its call engagement:
exactly once under 429/5xx and lost answers, owned by the contact owner (or a configured owner), due
after a delay, and completed when a callback connects."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.helpers import TEST_SETTINGS
from tests.hubspot.fakes import FakeHubSpot
from widget_app.calls import inbound
from widget_app.hubspot.engagements import drain, enqueue_call_sync
from widget_app.models import Call, EngagementSync
from widget_app.models import db as database

CALLER, SENDER = "+447400123456", TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]
MISSED_LEG, CALLBACK_LEG = "CA" + "m" * 32, "CA" + "b" * 32
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DANA = {"id": "501", "name": "Dana Demo", "owner_id": "789"}


@pytest.fixture
def hubspot(http_mock, hubspot_sleeps):
    return FakeHubSpot(http_mock)


@pytest.fixture
def missed_call(app_ctx):
    """A WhatsApp call from Dana (owner 789) that nobody answered, ended at T0, queued for HubSpot as the
    inbound webhook's <Dial action> leaves it."""
    def make(contact=DANA, sid=MISSED_LEG):
        call = Call.create(direction="inbound", status="ringing", sid=sid, from_number=CALLER, to_number=SENDER,
                           contact_id=(contact or {}).get("id"), owner_id=(contact or {}).get("owner_id"),
                           contact_card=contact, started_at=T0 - timedelta(seconds=25))
        inbound.mark_missed(call)
        return Call.get_by_id(call.id)
    return make


def drain_at(app, moment):
    with freeze_time(moment):
        drain(app)


def test_a_missed_call_gets_one_engagement_and_one_call_back_task_for_the_contact_owner(app, hubspot, missed_call):
    with freeze_time(T0):
        call = missed_call()
        drain(app)
    assert len(hubspot.records["calls"]) == 1
    assert hubspot.tasks() == [{
        "properties": {"hs_timestamp": "2026-03-02T11:00:00.000Z", "hs_task_subject": "Call back Dana Demo",
                       "hs_task_body": "Missed WhatsApp call from +447400123456 at 2026-03-02 09:59 UTC.",
                       "hs_task_status": "NOT_STARTED", "hs_task_type": "CALL", "hs_task_priority": "HIGH",
                       "hubspot_owner_id": "789"},
        "associations": [{"to": {"id": "501"}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                          "associationTypeId": 204}]}]}]
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "done" and row.task_id == "7001"


def test_an_unknown_callers_task_goes_to_the_configured_owner_after_the_configured_delay(app, hubspot, missed_call):
    app.config.update(FOLLOW_UP_TASK_OWNER_ID="555", FOLLOW_UP_TASK_DELAY_MINUTES=15)
    with freeze_time(T0):
        missed_call(contact=None)
        drain(app)
    (task,) = hubspot.tasks()
    assert task["properties"]["hubspot_owner_id"] == "555"
    assert task["properties"]["hs_task_subject"] == "Call back +447400123456"
    assert task["properties"]["hs_timestamp"] == "2026-03-02T10:15:00.000Z"
    assert task["associations"] == []


def test_rate_limits_and_server_errors_still_give_one_engagement_and_one_task(app, hubspot, missed_call):
    hubspot.fail["calls"] = [429, 503]
    hubspot.fail["tasks"] = [429, 500, 502]
    with freeze_time(T0):
        call = missed_call()
    for minutes in range(0, 240, 5):  # the worker comes back as the outbox's backoff allows
        drain_at(app, T0 + timedelta(minutes=minutes))
    assert len(hubspot.records["calls"]) == 1 and len(hubspot.tasks()) == 1
    assert EngagementSync.get(EngagementSync.call == call.id).status == "done"


def test_a_task_whose_create_answer_was_lost_is_found_instead_of_created_again(app, hubspot, missed_call):
    hubspot.lose_answers["tasks"] = [502]
    with freeze_time(T0):
        call = missed_call()
        drain(app)
    for minutes in range(1, 60, 5):
        drain_at(app, T0 + timedelta(minutes=minutes))
    assert len(hubspot.tasks()) == 1
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.status == "done" and row.task_id == "7001"


def test_follow_up_tasks_can_be_turned_off(app, hubspot, missed_call):
    app.config["FOLLOW_UP_TASKS"] = False
    with freeze_time(T0):
        missed_call()
        drain(app)
    assert len(hubspot.records["calls"]) == 1 and hubspot.tasks() == []


def test_an_answered_inbound_call_gets_no_task(app, app_ctx, hubspot):
    with freeze_time(T0):
        enqueue_call_sync(Call.create(direction="inbound", status="completed", sid=MISSED_LEG, from_number=CALLER,
                                      to_number=SENDER, answered_at=T0, ended_at=T0 + timedelta(minutes=1)))
        drain(app)
    assert len(hubspot.records["calls"]) == 1 and hubspot.tasks() == []


def callback_form(status, seq, **extra):
    return {"CallSid": CALLBACK_LEG, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "CallStatus": status,
            "SequenceNumber": str(seq), "From": f"whatsapp:{SENDER}", "To": f"whatsapp:{CALLER}",
            "Direction": "outbound-dial", **extra}


@pytest.fixture
def callback(agent, twilio_post):
    """The rep calls the contact back from the widget; Twilio reports the WhatsApp leg's progress."""
    def call_back(*statuses):
        Call.create(direction="outbound", status="initiated", from_number=SENDER, to_number=CALLER, agent=agent,
                    sid=CALLBACK_LEG)
        for seq, (status, extra) in enumerate(statuses):
            assert twilio_post("/twilio/voice/status", callback_form(status, seq, **extra)).status_code == 204
    return call_back


def test_a_connected_callback_completes_the_task_once(app, hubspot, missed_call, callback):
    with freeze_time(T0):
        missed_call()
        drain(app)
    with freeze_time(T0 + timedelta(minutes=30)):
        callback(("in-progress", {}), ("completed", {"CallDuration": "60"}))
        drain(app)
        drain(app)
    assert hubspot.patches["tasks"] == [("7001", {"properties": {"hs_task_status": "COMPLETED"}})]
    assert len(hubspot.tasks()) == 1


def test_a_callback_nobody_answered_leaves_the_task_open(app, hubspot, missed_call, callback):
    with freeze_time(T0):
        missed_call()
        drain(app)
    with freeze_time(T0 + timedelta(minutes=30)):
        callback(("no-answer", {"CallDuration": "0"}))
        drain(app)
    assert hubspot.patches["tasks"] == []


def test_a_callback_before_the_task_was_written_creates_it_completed(app, hubspot, missed_call, callback):
    hubspot.fail["tasks"] = [503]
    with freeze_time(T0):
        missed_call()
        drain(app)
    with freeze_time(T0 + timedelta(minutes=30)):
        callback(("in-progress", {}), ("completed", {"CallDuration": "60"}))
        drain(app)
    (task,) = hubspot.tasks()
    assert task["properties"]["hs_task_status"] == "COMPLETED"


def test_concurrent_workers_write_one_task_per_missed_call_on_every_database(make_app, database_url, http_mock):
    app = make_app(DATABASE_URL=database_url)
    app.extensions["hubspot_sleep"] = lambda seconds: None
    hubspot = FakeHubSpot(http_mock)
    with freeze_time(T0), app.app_context(), database.connection_context():
        for i in range(6):
            call = Call.create(direction="inbound", status="ringing", sid=f"CA{i:032d}", from_number=CALLER,
                               to_number=SENDER, contact_id="501", owner_id="789", contact_card=DANA)
            inbound.mark_missed(call)
    with freeze_time(T0):
        workers = [threading.Thread(target=drain, args=(app,)) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    assert len(hubspot.records["calls"]) == 6 and len(hubspot.tasks()) == 6
