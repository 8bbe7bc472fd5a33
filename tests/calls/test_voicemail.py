"""Voicemail (issue 15, item 3): a call nobody answers hears why, the greeting and the consent notice, then
<Record>; the recording lands on the missed call once, reaches HubSpot as the same one engagement (with the
recording), and plays in the Missed list through our authenticated link for the agents who see that call."""
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
import responses
from freezegun import freeze_time

from tests.calls.helpers import (
    CALLER,
    HOLIDAY_10_LISBON,
    MONDAY_0830_UTC_SUMMER,
    MONDAY_0830_UTC_WINTER,
    MONDAY_10_LISBON_SUMMER,
    MONDAY_20_LISBON_SUMMER,
    SENDER,
    inbound_form,
)
from tests.helpers import HUBSPOT_API, PUBLIC_BASE_URL, TEST_SETTINGS
from tests.hubspot.fakes import FakeHubSpot
from widget_app.hubspot.engagements import drain
from widget_app.models import Call, CallRing, EngagementSync, WebhookEvent

LEG = "CA" + "7" * 32
RE_SID = "RE" + "5" * 32
RECORDING_URL = f"https://api.twilio.com/2010-04-01/Accounts/{TEST_SETTINGS['TWILIO_ACCOUNT_SID']}/Recordings/{RE_SID}"
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def record_verb(twiml):
    return twiml.find("Record")


def voicemail_form(call_sid=LEG, status="completed", duration="23", recording_sid=RE_SID):
    return {"AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "CallSid": call_sid, "RecordingSid": recording_sid,
            "RecordingUrl": RECORDING_URL, "RecordingStatus": status, "RecordingDuration": duration,
            "RecordingChannels": "1", "RecordingSource": "RecordVerb", "RecordingStartTime": "Mon, 02 Mar 2026 10:00:30 +0000"}


# ---- what the caller hears ----------------------------------------------------------------------

@pytest.mark.parametrize("moment, rings", [
    (MONDAY_10_LISBON_SUMMER, True), (MONDAY_20_LISBON_SUMMER, False), (HOLIDAY_10_LISBON, False),
    (MONDAY_0830_UTC_WINTER, False), (MONDAY_0830_UTC_SUMMER, True),
])
def test_the_same_webhook_rings_agents_in_hours_and_records_a_voicemail_after_hours(app, lisbon_hours, calls_in, moment, rings):
    twiml = calls_in(moment)
    if rings:
        assert twiml.find("Dial") is not None and record_verb(twiml) is None
        return
    says = [say.text for say in twiml.iter("Say")]
    assert says == [app.config["AFTER_HOURS_MESSAGE"], app.config["VOICEMAIL_GREETING"]]
    record = record_verb(twiml)
    assert record.get("maxLength") == "120" and record.get("playBeep") == "true"
    assert record.get("action") == f"{PUBLIC_BASE_URL}/twilio/voicemail/done"
    assert record.get("recordingStatusCallback") == f"{PUBLIC_BASE_URL}/twilio/voicemail/status"
    assert record.get("recordingStatusCallbackEvent") == "completed"
    assert Call.get().status == "no-answer" and CallRing.select().count() == 0


def test_nobody_available_hears_the_greeting_the_consent_notice_and_the_configured_length(app, db, twilio_post,
                                                                                          http_mock):
    http_mock.add(responses.POST, f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search", json={"total": 0, "results": []})
    app.config.update(VOICEMAIL_GREETING="Leave a message.", VOICEMAIL_MAX_SECONDS=45,
                      RECORDING_CONSENT_MESSAGE="This message is recorded.")  # RECORD_CALLS stays off
    twiml = ET.fromstring(twilio_post("/twilio/voice", inbound_form(LEG)).data)
    assert [say.text for say in twiml.iter("Say")] == ["Sorry, nobody can take your call right now.",
                                                       "Leave a message.", "This message is recorded."]
    assert record_verb(twiml).get("maxLength") == "45"


def test_with_voicemail_off_the_caller_hears_why_and_the_call_ends(app, db, twilio_post, http_mock):
    http_mock.add(responses.POST, f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search", json={"total": 0, "results": []})
    app.config["VOICEMAIL"] = False
    twiml = ET.fromstring(twilio_post("/twilio/voice", inbound_form(LEG)).data)
    assert record_verb(twiml) is None and twiml.find("Hangup") is not None


@pytest.fixture
def ringing_call(app_ctx, agent):
    call = Call.create(direction="inbound", status="ringing", sid=LEG, from_number=CALLER, to_number=SENDER,
                       started_at=T0, created_at=T0)
    CallRing.create(call=call.id, agent=agent.id, rung_at=T0)
    return call


@pytest.mark.parametrize("dial_status", ["no-answer", "busy", "failed"])
def test_a_call_that_rang_out_or_was_declined_answers_the_dial_action_with_record(twilio_post, ringing_call,
                                                                                   dial_status):
    answer = twilio_post("/twilio/voice/dial-done", {**inbound_form(LEG), "DialCallStatus": dial_status})
    twiml = ET.fromstring(answer.data)
    assert record_verb(twiml) is not None
    assert [say.text for say in twiml.iter("Say")][0] == "Sorry, nobody can take your call right now."
    assert Call.get_by_id(ringing_call.id).status == "no-answer"


def test_a_caller_who_hung_up_or_an_answered_call_gets_no_voicemail(twilio_post, ringing_call):
    for status in ("canceled", "completed"):
        twiml = ET.fromstring(twilio_post("/twilio/voice/dial-done", {**inbound_form(LEG), "DialCallStatus": status}).data)
        assert record_verb(twiml) is None and twiml.find("Hangup") is not None


def test_the_record_action_hangs_up(twilio_post, ringing_call):
    twiml = ET.fromstring(twilio_post("/twilio/voicemail/done", {**inbound_form(LEG), "RecordingSid": RE_SID}).data)
    assert twiml.find("Hangup") is not None


# ---- keeping the message -------------------------------------------------------------------------

@pytest.fixture
def missed_call(app_ctx):
    with freeze_time(T0):
        call = Call.create(direction="inbound", status="ringing", sid=LEG, from_number=CALLER, to_number=SENDER,
                           contact_id="501", owner_id="789", started_at=T0,
                           contact_card={"id": "501", "name": "Dana Demo", "owner_id": "789"})
        from widget_app.calls import inbound
        inbound.mark_missed(call)
    return Call.get_by_id(call.id)


def test_the_voicemail_is_kept_on_the_missed_call_once(twilio_post, missed_call, socket_inbox, make_agent):
    inbox = socket_inbox(make_agent(email="owner@example.com", hubspot_owner_id="789"))
    first = twilio_post("/twilio/voicemail/status", voicemail_form())
    assert first.status_code == 200 and first.get_json() == {"call_id": missed_call.id, "stored": True}
    call = Call.get_by_id(missed_call.id)
    assert (call.recording_url, call.recording_sid, call.voicemail_seconds) == (RECORDING_URL, RE_SID, 23)
    assert [message["type"] for message in inbox] == ["missed_call"]  # the owner's Missed list refreshes
    assert twilio_post("/twilio/voicemail/status", voicemail_form(duration="99")).get_json()["stored"] is False
    assert Call.get_by_id(missed_call.id).voicemail_seconds == 23
    assert WebhookEvent.select().count() == 1


def test_an_unsigned_or_malformed_voicemail_callback_changes_nothing(twilio_post, missed_call):
    assert twilio_post("/twilio/voicemail/status", voicemail_form(), signed=False).status_code == 403
    assert twilio_post("/twilio/voicemail/status", voicemail_form(duration="lots")).status_code == 400
    assert twilio_post("/twilio/voicemail/status", voicemail_form(call_sid="CA" + "0" * 32)).status_code == 404
    assert twilio_post("/twilio/voicemail/status", voicemail_form(status="absent")).get_json()["stored"] is False
    assert Call.get_by_id(missed_call.id).voicemail_seconds is None


def test_an_answered_call_cannot_be_given_a_voicemail(twilio_post, missed_call):
    Call.update(answered_at=T0, status="completed").where(Call.id == missed_call.id).execute()
    answer = twilio_post("/twilio/voicemail/status", voicemail_form())
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "not_a_voicemail"
    assert Call.get_by_id(missed_call.id).recording_url is None


@pytest.fixture
def hubspot(http_mock, hubspot_sleeps):
    fake = FakeHubSpot(http_mock)
    fake.ready = []
    http_mock.add_callback("POST", f"{HUBSPOT_API}/crm/extensions/calling/2026-03/recordings/ready",
                           callback=lambda request: (fake.ready.append(json.loads(request.body)), (204, {}, ""))[1])
    return fake


def test_hubspot_gets_one_engagement_with_the_voicemail_under_rate_limits_and_server_errors(app, hubspot, missed_call,
                                                                                             twilio_post):
    hubspot.fail["calls"] = [429, 503, 500]
    with freeze_time(T0 + timedelta(seconds=40)):
        assert twilio_post("/twilio/voicemail/status", voicemail_form()).get_json()["stored"] is True
    for minutes in range(0, 240, 5):
        with freeze_time(T0 + timedelta(minutes=minutes)):
            drain(app)
    (engagement,) = hubspot.records["calls"].values()
    props = {**engagement["properties"], **{k: v for _, body in hubspot.patches["calls"] for k, v in body["properties"].items()}}
    assert props["hs_call_status"] == "MISSED"
    assert props["hs_call_recording_url"] == RECORDING_URL + ".wav"
    assert props["hs_call_body"] == "Voicemail (0:23)"
    assert hubspot.ready == [{"engagementId": int(next(iter(hubspot.records["calls"])))}]
    assert len(hubspot.tasks()) == 1
    assert EngagementSync.get(EngagementSync.call == missed_call.id).status == "done"


def test_a_voicemail_after_the_missed_call_was_logged_updates_the_same_engagement(app, hubspot, missed_call,
                                                                                 twilio_post):
    with freeze_time(T0):
        drain(app)
    with freeze_time(T0 + timedelta(minutes=1)):
        twilio_post("/twilio/voicemail/status", voicemail_form())
        drain(app)
    assert len(hubspot.records["calls"]) == 1
    ((engagement_id, patch),) = hubspot.patches["calls"]
    assert patch["properties"]["hs_call_recording_url"] == RECORDING_URL + ".wav"
    assert hubspot.ready == [{"engagementId": int(engagement_id)}]


# ---- the Missed list plays it --------------------------------------------------------------------

def test_the_missed_list_shows_the_voicemail_and_its_player_link_streams_it(client, twilio_post, missed_call, make_agent,
                                                                            headers_for, http_mock):
    twilio_post("/twilio/voicemail/status", voicemail_form())
    owner = make_agent(email="owner@example.com", hubspot_owner_id="789")
    with freeze_time(T0 + timedelta(minutes=2)):
        (row,) = client.get("/api/calls/missed", headers=headers_for(owner)).json["calls"]
        assert row["voicemail"] == {"seconds": 23}
        link = client.get(f"/api/calls/{missed_call.id}/voicemail", headers=headers_for(owner))
    assert link.status_code == 200 and link.json["seconds"] == 23
    assert link.json["url"].startswith(f"/hubspot/recordings/{LEG}/audio?token=")
    http_mock.add("GET", RECORDING_URL + ".wav", body=b"RIFF....WAVE", status=200,
                  headers={"Content-Type": "audio/x-wav"})
    with freeze_time(T0 + timedelta(minutes=3)):
        audio = client.get(link.json["url"])
    assert audio.status_code == 200 and audio.data == b"RIFF....WAVE"


def test_only_agents_who_see_the_missed_call_get_its_voicemail(client, twilio_post, missed_call, make_agent, headers_for):
    twilio_post("/twilio/voicemail/status", voicemail_form())
    other = make_agent(email="other@example.com", hubspot_owner_id="111")
    with freeze_time(T0 + timedelta(minutes=2)):
        assert client.get(f"/api/calls/{missed_call.id}/voicemail").status_code == 401  # first: app_ctx keeps g
        answer = client.get(f"/api/calls/{missed_call.id}/voicemail", headers=headers_for(other))
        assert client.get("/api/calls/missed", headers=headers_for(other)).json["calls"] == []
    assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"


def test_a_missed_call_without_a_voicemail_has_no_player(client, missed_call, make_agent, headers_for):
    owner = make_agent(email="owner@example.com", hubspot_owner_id="789")
    with freeze_time(T0 + timedelta(minutes=2)):
        (row,) = client.get("/api/calls/missed", headers=headers_for(owner)).json["calls"]
        answer = client.get(f"/api/calls/{missed_call.id}/voicemail", headers=headers_for(owner))
    assert row["voicemail"] is None and answer.status_code == 404


def test_the_missed_list_says_after_hours_for_a_call_that_came_in_while_closed(client, lisbon_hours, calls_in, agent,
                                                                               headers_for):
    calls_in(MONDAY_20_LISBON_SUMMER)
    with freeze_time(MONDAY_20_LISBON_SUMMER + timedelta(minutes=1)):
        (row,) = client.get("/api/calls/missed", headers=headers_for(agent)).json["calls"]
    assert row["reason"] == "After hours"
