"""recordings/ready: once a recorded call's engagement holds its recording, HubSpot is told exactly once,
through the outbox, so it can transcribe it (reference §5.2)."""
import json
from datetime import timedelta

from freezegun import freeze_time
from responses import matchers

from tests.helpers import HUBSPOT_API, TEST_SETTINGS, TWILIO_API
from widget_app.core.clock import utcnow
from widget_app.hubspot.engagements import drain, enqueue_call_sync
from widget_app.models import Call, EngagementSync

READY = f"{HUBSPOT_API}/crm/extensions/calling/2026-03/recordings/ready"
ENGAGEMENT = f"{HUBSPOT_API}/crm/objects/2026-03/calls/17591596434"
RE_SID, CALL_SID, PARENT_SID = "RE" + "a" * 32, "CA" + "b" * 32, "CA" + "c" * 32
RECORDING_URL = f"{TWILIO_API}/Recordings/{RE_SID}"
BEARER = {"Authorization": "Bearer test-hubspot-token"}
NOW = "2025-05-01 12:05:00"


def recording_callback(twilio_post):
    """Twilio's recordingStatusCallback for the <Dial> leg's finished recording."""
    form = {"AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "CallSid": PARENT_SID, "RecordingSid": RE_SID,
            "RecordingUrl": RECORDING_URL, "RecordingStatus": "completed", "RecordingDuration": "42",
            "RecordingChannels": "2", "RecordingSource": "DialVerb", "ErrorCode": "0"}
    assert twilio_post("/twilio/recording/status", form).get_json()["stored"] is True


def mock_patch(http_mock):
    """HubSpot's PATCH of the engagement, which must carry every property an authenticated recording needs."""
    wanted = {"hs_call_recording_url": RECORDING_URL + ".wav", "hs_call_external_id": CALL_SID,
              "hs_call_external_account_id": TEST_SETTINGS["TWILIO_ACCOUNT_SID"],
              "hs_call_app_id": TEST_SETTINGS["HUBSPOT_APP_ID"], "hs_call_source": "INTEGRATIONS_PLATFORM"}
    http_mock.patch(ENGAGEMENT, json={"id": "17591596434", "properties": {}, "archived": False},
                    match=[matchers.json_params_matcher({"properties": wanted}, strict_match=False)])


def ready_matchers():
    return [matchers.json_params_matcher({"engagementId": 17591596434}), matchers.header_matcher(BEARER)]


def sent(http_mock):
    return [(c.request.method, c.request.url) for c in http_mock.calls]


def row_of(call) -> EngagementSync:
    return EngagementSync.get(EngagementSync.call == call.id)


def test_a_recording_is_written_then_marked_ready_once(app, app_ctx, twilio_post, make_call, http_mock,
                                                       hubspot_sleeps):
    call = make_call(sid=CALL_SID, parent_sid=PARENT_SID, engagement_id="17591596434")
    mock_patch(http_mock)
    http_mock.post(READY, status=204, match=ready_matchers())
    recording_callback(twilio_post)
    drain(app)
    assert sent(http_mock) == [("PATCH", ENGAGEMENT), ("POST", READY)]
    assert json.loads(http_mock.calls[1].request.body) == {"engagementId": 17591596434}

    Call.update(notes="Later notes").where(Call.id == call.id).execute()
    enqueue_call_sync(Call.get_by_id(call.id))  # a later save rewrites the engagement, not the ready mark
    http_mock.patch(ENGAGEMENT, json={"id": "17591596434", "properties": {}, "archived": False})
    drain(app)
    assert sent(http_mock) == [("PATCH", ENGAGEMENT), ("POST", READY), ("PATCH", ENGAGEMENT)]
    assert row_of(call).status == "done" and row_of(call).recording_ready_url == RECORDING_URL + ".wav"


def test_a_failed_ready_retries_with_backoff_without_writing_the_engagement_again(app, app_ctx, twilio_post,
                                                                                   make_call, http_mock,
                                                                                   hubspot_sleeps):
    call = make_call(sid=CALL_SID, parent_sid=PARENT_SID, engagement_id="17591596434")
    mock_patch(http_mock)
    http_mock.post(READY, status=500, json={"status": "error", "message": "internal error", "correlationId": "r1"},
                   match=ready_matchers())
    http_mock.post(READY, status=204, match=ready_matchers())
    with freeze_time(NOW) as clock:
        recording_callback(twilio_post)
        drain(app)
        row = row_of(call)
        assert row.status == "pending" and "500" in row.last_error and row.recording_ready_url is None
        assert timedelta(seconds=24) <= row.next_attempt_at - utcnow() <= timedelta(seconds=36)
        assert drain(app) == 0  # not due yet: the outbox's backoff applies
        clock.move_to(row.next_attempt_at + timedelta(seconds=1))
        drain(app)
        drain(app)
    assert sent(http_mock) == [("PATCH", ENGAGEMENT), ("POST", READY), ("POST", READY)]
    assert [c.response.status_code for c in http_mock.calls] == [200, 500, 204]
    row = row_of(call)
    assert (row.status, row.last_error, row.recording_ready_url) == ("done", None, RECORDING_URL + ".wav")


def test_a_new_engagement_is_marked_ready_with_the_id_hubspot_gave(app, app_ctx, twilio_post, make_call,
                                                                   http_mock, hubspot_sleeps):
    make_call(sid=CALL_SID, parent_sid=PARENT_SID, contact_id="104901")
    http_mock.post(f"{HUBSPOT_API}/crm/objects/2026-03/calls", status=201,
                   json={"id": "17591596434", "properties": {}, "archived": False})
    http_mock.post(READY, status=204, match=ready_matchers())
    recording_callback(twilio_post)
    drain(app)
    assert sent(http_mock) == [("POST", f"{HUBSPOT_API}/crm/objects/2026-03/calls"), ("POST", READY)]


def test_a_call_without_a_recording_is_never_marked_ready(app, app_ctx, make_call, http_mock, hubspot_sleeps):
    call = make_call(sid=CALL_SID, engagement_id="17591596434")
    enqueue_call_sync(call)
    http_mock.patch(ENGAGEMENT, json={"id": "17591596434", "properties": {}, "archived": False})
    drain(app)
    assert sent(http_mock) == [("PATCH", ENGAGEMENT)]
    assert row_of(call).status == "done" and row_of(call).recording_ready_url is None


def test_demo_modes_hubspot_accepts_the_ready_mark_for_the_engagement_it_made(make_app):
    from widget_app.models import db
    app = make_app(WIDGET_MODE="demo")
    with app.app_context(), db.connection_context():
        call = Call.create(direction="outbound", status="completed", from_number="+442071838750",
                           to_number="+447400123456", sid=CALL_SID, recording_url=RECORDING_URL, recording_sid=RE_SID)
        enqueue_call_sync(call)
    drain(app)
    with app.app_context(), db.connection_context():
        row = row_of(call)
    assert (row.status, row.recording_ready_url) == ("done", RECORDING_URL + ".wav")
    assert row.engagement_id in app.extensions["hubspot_demo_cloud"].calls



def test_a_refused_ready_call_keeps_the_written_engagement_synced(app, app_ctx, twilio_post, make_call, http_mock,
                                                                  hubspot_sleeps):
    """A 4xx on recordings/ready (e.g. a token without the right scope) must not show the call as failed."""
    call = make_call(sid=CALL_SID, parent_sid=PARENT_SID, engagement_id="17591596434")
    mock_patch(http_mock)
    http_mock.post(READY, status=403, json={"status": "error", "message": "This app hasn't been granted all "
                                            "required scopes", "category": "MISSING_SCOPES", "correlationId": "s1"})
    recording_callback(twilio_post)
    drain(app)
    drain(app)
    assert sent(http_mock) == [("PATCH", ENGAGEMENT), ("POST", READY)]  # not asked again
    assert row_of(call).status == "done"
