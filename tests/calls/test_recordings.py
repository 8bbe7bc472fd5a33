"""Recorded calls: <Dial> attributes, Twilio's recording callback into the HubSpot outbox, and the
authenticated link HubSpot fetches, which streams Twilio's audio (with Range) for 15 minutes only."""
import base64
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from responses import matchers
from twilio.twiml.voice_response import VoiceResponse

from tests.helpers import PUBLIC_BASE_URL, TEST_SETTINGS, TWILIO_API
from widget_app.calls import recordings as call_recordings
from widget_app.models import Call, EngagementSync, WebhookEvent

RE_SID = "RE" + "a" * 32
CALL_SID, PARENT_SID = "CA" + "b" * 32, "CA" + "c" * 32
RECORDING_URL = f"{TWILIO_API}/Recordings/{RE_SID}"
AUDIO = bytes(range(256)) * 40  # 10,240 bytes of "WAV"
BASIC = "Basic " + base64.b64encode(
    f"{TEST_SETTINGS['TWILIO_ACCOUNT_SID']}:{TEST_SETTINGS['TWILIO_AUTH_TOKEN']}".encode()).decode()
T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def callback_form(call_sid=PARENT_SID, status="completed", recording_sid=RE_SID):
    """What Twilio posts to recordingStatusCallback for a <Dial record=…> recording."""
    return {"AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "CallSid": call_sid,
            "RecordingSid": recording_sid, "RecordingUrl": f"{TWILIO_API}/Recordings/{recording_sid}",
            "RecordingStatus": status, "RecordingDuration": "42", "RecordingChannels": "2",
            "RecordingStartTime": "Thu, 01 May 2025 12:00:05 +0000", "RecordingSource": "DialVerb",
            "RecordingTrack": "both", "ErrorCode": "0"}


@pytest.fixture
def call(db, agent):
    return Call.create(direction="outbound", status="completed", from_number="+442071838750",
                       to_number="+447400123456", sid=CALL_SID, parent_sid=PARENT_SID, agent=agent,
                       started_at=T0, answered_at=T0, ended_at=T0 + timedelta(seconds=42), duration_seconds=42)


@pytest.fixture
def recorded_call(call):
    call.recording_url, call.recording_sid = RECORDING_URL, RE_SID
    call.save()
    return call


def test_dial_attributes_record_both_channels_from_answer_only_when_enabled(make_app):
    with make_app(RECORD_CALLS=False).test_request_context():
        assert call_recordings.dial_recording_attrs() == {}
        assert call_recordings.consent_say_text() is None
    with make_app(RECORD_CALLS=True, RECORDING_CONSENT_MESSAGE="This call is recorded.").test_request_context():
        attrs = call_recordings.dial_recording_attrs()
        assert call_recordings.consent_say_text() == "This call is recorded."
        twiml = str(VoiceResponse().dial(caller_id="whatsapp:+442071838750", **attrs))
    assert 'record="record-from-answer-dual"' in twiml
    assert f'recordingStatusCallback="{PUBLIC_BASE_URL}/twilio/recording/status"' in twiml
    assert 'recordingStatusCallbackEvent="completed"' in twiml


def test_no_consent_message_means_no_announcement(make_app):
    with make_app(RECORD_CALLS=True, RECORDING_CONSENT_MESSAGE="  ").test_request_context():
        assert call_recordings.consent_say_text() is None


def test_recording_flows_from_twilio_to_the_engagements_recording_url(twilio_post, call, db):
    response = twilio_post("/twilio/recording/status", callback_form())
    assert response.status_code == 200
    assert response.get_json() == {"call_id": call.id, "stored": True}
    call = Call.get_by_id(call.id)
    assert (call.recording_url, call.recording_sid) == (RECORDING_URL, RE_SID)
    row = EngagementSync.get(EngagementSync.call == call.id)
    assert row.payload["properties"]["hs_call_recording_url"] == RECORDING_URL + ".wav"  # the dual-channel WAV HubSpot can transcribe
    assert row.payload["properties"]["hs_call_external_id"] == CALL_SID


def test_the_same_recording_twice_changes_nothing(twilio_post, call, db):
    assert twilio_post("/twilio/recording/status", callback_form()).get_json()["stored"] is True
    before = EngagementSync.get(EngagementSync.call == call.id)
    again = twilio_post("/twilio/recording/status", callback_form(call_sid=CALL_SID))
    assert again.status_code == 200 and again.get_json()["stored"] is False
    after = EngagementSync.get(EngagementSync.call == call.id)
    assert (after.revision, after.updated_at) == (before.revision, before.updated_at)
    assert WebhookEvent.select().where(WebhookEvent.key == f"twilio-recording:{RE_SID}").count() == 1


def test_unsigned_callback_is_refused_and_stores_nothing(twilio_post, call, db):
    response = twilio_post("/twilio/recording/status", callback_form(), signed=False)
    assert response.status_code == 403
    assert Call.get_by_id(call.id).recording_url is None
    assert EngagementSync.select().count() == 0


def test_absent_or_failed_recordings_are_not_stored(twilio_post, call, db):
    response = twilio_post("/twilio/recording/status", callback_form(status="absent"))
    assert response.status_code == 200 and response.get_json()["stored"] is False
    assert Call.get_by_id(call.id).recording_url is None


@pytest.mark.parametrize("form, status", [
    (callback_form(call_sid="CA" + "9" * 32), 404),
    (callback_form(recording_sid="XX123"), 400),
    ({**callback_form(), "RecordingUrl": "http://evil.example.com/a"}, 400),
    ({k: v for k, v in callback_form().items() if k != "CallSid"}, 400),
])
def test_bad_or_unknown_callbacks_are_rejected(twilio_post, call, db, form, status):
    assert twilio_post("/twilio/recording/status", form).status_code == status
    assert Call.get_by_id(call.id).recording_url is None


def recording_link(hubspot_request, external_id=CALL_SID):
    return hubspot_request("GET", f"/hubspot/recordings/{external_id}?appId=123456"
                                  f"&externalAccountId={TEST_SETTINGS['TWILIO_ACCOUNT_SID']}")


def audio_path(response) -> str:
    url = response.get_json()["authenticatedUrl"]
    assert url.startswith(PUBLIC_BASE_URL + "/hubspot/recordings/")
    return url[len(PUBLIC_BASE_URL):]


def mock_twilio_media(http_mock):
    """Twilio's media URL: the whole file, or the asked-for byte range as 206."""
    def answer(request):
        wanted = request.headers.get("Range")
        headers = {"Content-Type": "audio/x-wav", "Accept-Ranges": "bytes"}
        if wanted:
            start, end = (int(part) for part in wanted.removeprefix("bytes=").split("-"))
            headers["Content-Range"] = f"bytes {start}-{end}/{len(AUDIO)}"
            return 206, headers, AUDIO[start:end + 1]
        return 200, headers, AUDIO
    http_mock.add_callback("GET", RECORDING_URL + ".wav", callback=answer,
                           match=[matchers.header_matcher({"Authorization": BASIC})])


def test_hubspot_gets_a_link_that_streams_the_audio_with_range(hubspot_request, client, recorded_call, http_mock):
    mock_twilio_media(http_mock)
    link = recording_link(hubspot_request)
    assert link.status_code == 200
    path = audio_path(link)
    whole = client.get(path, base_url=PUBLIC_BASE_URL)
    assert whole.status_code == 200
    assert whole.data == AUDIO
    assert whole.headers["Content-Type"] == "audio/x-wav"
    part = client.get(path, headers={"Range": "bytes=100-1123"}, base_url=PUBLIC_BASE_URL)
    assert part.status_code == 206
    assert part.data == AUDIO[100:1124]
    assert part.headers["Content-Range"] == f"bytes 100-1123/{len(AUDIO)}"
    assert part.headers["Accept-Ranges"] == "bytes"
    assert http_mock.calls[-1].request.headers["Range"] == "bytes=100-1123"


def test_wa_call_ids_name_calls_without_a_twilio_sid(hubspot_request, recorded_call, db):
    link = recording_link(hubspot_request, f"wa-call-{recorded_call.id}")
    assert link.status_code == 200
    assert f"/hubspot/recordings/wa-call-{recorded_call.id}/audio?token=" in link.get_json()["authenticatedUrl"]


def test_the_link_works_for_15_minutes_then_is_refused(hubspot_request, client, recorded_call, http_mock):
    mock_twilio_media(http_mock)
    with freeze_time(T0) as clock:
        path = audio_path(recording_link(hubspot_request))
        clock.tick(timedelta(minutes=14, seconds=59))
        assert client.get(path, base_url=PUBLIC_BASE_URL).status_code == 200
        clock.tick(timedelta(seconds=2))
        expired = client.get(path, base_url=PUBLIC_BASE_URL)
    assert expired.status_code == 403
    assert expired.get_json()["error"]["code"] == "link_expired"
    assert len(http_mock.calls) == 1


def test_tampered_or_foreign_tokens_are_refused(hubspot_request, client, recorded_call, http_mock, db):
    mock_twilio_media(http_mock)
    path = audio_path(recording_link(hubspot_request))
    other = Call.create(direction="outbound", from_number="+442071838750", to_number="+447700900999",
                        sid="CA" + "d" * 32, recording_url=f"{TWILIO_API}/Recordings/RE{'e' * 32}",
                        recording_sid="RE" + "e" * 32)
    for bad in (path[:-3] + "xyz", path.replace(CALL_SID, other.sid), path.split("?")[0] + "?token=",
                path.split("?")[0]):
        response = client.get(bad, base_url=PUBLIC_BASE_URL)
        assert response.status_code == 403, bad
    assert len(http_mock.calls) == 0


def test_a_token_dies_when_the_recording_is_replaced(hubspot_request, client, recorded_call, db):
    path = audio_path(recording_link(hubspot_request))
    recorded_call.recording_sid = "RE" + "f" * 32
    recorded_call.save()
    assert client.get(path, base_url=PUBLIC_BASE_URL).status_code == 403


def test_the_recording_link_without_a_signature_or_every_unsigned_proof_is_refused(hubspot_request, recorded_call,
                                                                                   client):
    # No externalAccountId in the query: unsigned (or forged) it is refused (tests/hubspot/test_recording_link.py).
    unsigned = hubspot_request("GET", f"/hubspot/recordings/{CALL_SID}?appId=123456", signed=False)
    assert unsigned.status_code == 401
    forged = hubspot_request("GET", f"/hubspot/recordings/{CALL_SID}?appId=123456", secret="not-ours")
    assert forged.status_code == 401
    # v1 signs only the (empty) body: for a GET it proves nothing, so it is not accepted here.
    v1 = recordings_v1_headers(client.application.config["HUBSPOT_CLIENT_SECRET"])
    response = client.get(f"/hubspot/recordings/{CALL_SID}", headers=v1, base_url=PUBLIC_BASE_URL)
    assert response.status_code == 401
    assert "authenticatedUrl" not in response.get_data(as_text=True)


def recordings_v1_headers(secret):
    from widget_app.hubspot.signatures import sign_v1
    return {"X-HubSpot-Signature": sign_v1(secret, ""), "X-HubSpot-Signature-Version": "v1"}


def test_unknown_calls_or_calls_without_recordings_are_404(hubspot_request, call):
    assert recording_link(hubspot_request, "CA" + "0" * 32).status_code == 404
    assert recording_link(hubspot_request, CALL_SID).status_code == 404  # not recorded
    assert recording_link(hubspot_request, "wa-call-999").status_code == 404


def test_a_non_numeric_app_id_is_a_bad_request(hubspot_request, recorded_call):
    response = hubspot_request("GET", f"/hubspot/recordings/{CALL_SID}?appId=abc")
    assert response.status_code == 400


@pytest.mark.parametrize("twilio_status, ours", [(404, 404), (500, 502)])
def test_twilio_failures_are_reported_not_relayed(hubspot_request, client, recorded_call, http_mock,
                                                  twilio_status, ours):
    http_mock.add("GET", RECORDING_URL + ".wav", status=twilio_status,
                  json={"code": 20404, "message": "The requested resource was not found", "status": twilio_status})
    response = client.get(audio_path(recording_link(hubspot_request)), base_url=PUBLIC_BASE_URL)
    assert response.status_code == ours
    assert "error" in response.get_json()
