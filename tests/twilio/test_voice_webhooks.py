"""Twilio's voice webhooks: the outbound dial (or a spoken refusal) and status callbacks that only
move a call forward, once, counting unanswered business calls toward revocation."""
import xml.etree.ElementTree as ET

import pytest

from tests.helpers import CONTACT_PHONE, HUBSPOT_API, PUBLIC_BASE_URL, TEST_SETTINGS
from widget_app.models import Call, Permission, WebhookEvent
from widget_app.twilio.signatures import sign

BROWSER_LEG = "CA" + "b" * 32
WHATSAPP_LEG = "CA" + "w" * 32
SENDER = TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"]


def voice_form(call, agent, **overrides):
    """What Twilio posts when the agent's browser runs Device.connect({params})."""
    form = {"CallSid": BROWSER_LEG, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"],
            "ApplicationSid": TEST_SETTINGS["TWILIO_TWIML_APP_SID"], "ApiVersion": "2010-04-01",
            "From": f"client:{agent.voice_identity}", "Caller": f"client:{agent.voice_identity}",
            "Direction": "inbound", "CallStatus": "ringing",
            "To": call.to_number, "CallId": str(call.id), "Sender": call.from_number}
    return {**form, **overrides}


def status_form(status, seq, sid=WHATSAPP_LEG, parent=BROWSER_LEG, **extra):
    """A status callback of the WhatsApp leg our <WhatsApp statusCallback> asked for."""
    form = {"CallSid": sid, "ParentCallSid": parent, "CallStatus": status, "SequenceNumber": str(seq),
            "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "From": f"whatsapp:{SENDER}", "To": CONTACT_PHONE,
            "Direction": "outbound-dial", "CallbackSource": "call-progress-events", "ApiVersion": "2010-04-01"}
    return {**form, **extra}


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.get_data())


def assert_refused(root: ET.Element) -> str:
    assert [child.tag for child in root] == ["Say", "Hangup"]
    return root.find("Say").text


@pytest.fixture
def placed_call(make_call, grant_permission):
    """A call the browser has connected (Twilio's leg stored), permission granted."""
    def factory(**fields):
        grant_permission(fields.get("to_number", CONTACT_PHONE))
        return make_call(initiated=True, parent_sid=fields.pop("parent_sid", BROWSER_LEG), **fields)
    return factory


# --- POST /twilio/voice, outbound ----------------------------------------------------------

def test_dials_the_whatsapp_user_for_the_agents_own_queued_call(twilio_post, agent, make_call, grant_permission):
    grant_permission()
    call = make_call(initiated=True)
    root = twiml(twilio_post("/twilio/voice", voice_form(call, agent)))
    dial = root.find("Dial")
    assert [child.tag for child in root] == ["Dial"]
    assert dial.get("callerId") == f"whatsapp:{SENDER}"
    assert dial.get("answerOnBridge") == "true"
    whatsapp = dial.find("WhatsApp")
    assert whatsapp.text == CONTACT_PHONE
    assert whatsapp.get("statusCallback") == f"{PUBLIC_BASE_URL}/twilio/voice/status"
    assert whatsapp.get("statusCallbackEvent") == "initiated ringing answered completed"
    assert dial.get("record") is None
    stored = Call.get_by_id(call.id)
    assert stored.parent_sid == BROWSER_LEG and stored.status == "queued"


def test_dials_from_the_sender_recorded_on_the_call(twilio_post, agent, make_call, grant_permission):
    grant_permission()
    call = make_call(initiated=True, from_number="+34911234567")
    root = twiml(twilio_post("/twilio/voice", voice_form(call, agent, Sender="+442071838750")))
    assert root.find("Dial").get("callerId") == "whatsapp:+34911234567"


def test_refuses_an_unknown_call_id(twilio_post, agent, make_call, grant_permission):
    grant_permission()
    call = make_call(initiated=True)
    spoken = assert_refused(twiml(twilio_post("/twilio/voice", voice_form(call, agent, CallId=str(call.id + 1)))))
    assert "could not be found" in spoken
    assert Call.get_by_id(call.id).parent_sid is None


def test_refuses_another_agents_call_and_leaves_it_alone(twilio_post, agent, make_agent, make_call,
                                                         grant_permission, socket_inbox):
    grant_permission()
    other = make_agent(email="bo@example.com")
    call = make_call(initiated=True, agent=other)
    inbox = socket_inbox(other)
    spoken = assert_refused(twiml(twilio_post("/twilio/voice", voice_form(call, agent))))
    assert "another agent" in spoken
    stored = Call.get_by_id(call.id)
    assert (stored.status, stored.parent_sid, stored.error_code) == ("queued", None, None)
    assert inbox == []


def test_refuses_when_the_permission_is_gone_and_tells_the_widget_why(twilio_post, agent, make_call,
                                                                      socket_inbox, db):
    call = make_call(initiated=True)  # nobody granted anything for this phone
    inbox = socket_inbox(agent)
    spoken = assert_refused(twiml(twilio_post("/twilio/voice", voice_form(call, agent))))
    stored = Call.get_by_id(call.id)
    assert stored.status == "failed" and stored.error_code == "permission_required"
    assert stored.error_message == spoken and stored.ended_at is not None
    [message] = inbox
    assert message["type"] == "call_status" and message["call"]["id"] == call.id
    assert message["call"]["status"] == "failed" and message["call"]["error_code"] == "permission_required"


def test_refuses_a_destination_other_than_the_recorded_one(twilio_post, agent, make_call, grant_permission):
    grant_permission()
    call = make_call(initiated=True)
    assert_refused(twiml(twilio_post("/twilio/voice", voice_form(call, agent, To="+447911999999"))))
    assert Call.get_by_id(call.id).error_code == "destination_mismatch"


def test_refuses_to_dial_a_call_twice(twilio_post, agent, placed_call):
    call = placed_call()
    spoken = assert_refused(twiml(twilio_post("/twilio/voice", voice_form(call, agent, CallSid="CA" + "2" * 32))))
    assert "already been placed" in spoken
    assert Call.get_by_id(call.id).parent_sid == BROWSER_LEG


def test_unsigned_voice_request_is_rejected(twilio_post, agent, make_call, grant_permission):
    grant_permission()
    call = make_call(initiated=True)
    response = twilio_post("/twilio/voice", voice_form(call, agent), signed=False)
    assert response.status_code == 403
    assert Call.get_by_id(call.id).parent_sid is None


def test_recorded_calls_carry_twilios_recording_attributes_and_the_consent_whisper(
        make_app, agent, make_call, grant_permission):
    app = make_app(RECORD_CALLS=True, RECORDING_CONSENT_MESSAGE="This call may be recorded.")
    grant_permission()
    call = make_call(initiated=True)

    def post(path, form):
        signature = sign(PUBLIC_BASE_URL + path, form, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
        return app.test_client().post(path, data=form, base_url=PUBLIC_BASE_URL,
                                      headers={"X-Twilio-Signature": signature})
    dial = twiml(post("/twilio/voice", voice_form(call, agent))).find("Dial")
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == f"{PUBLIC_BASE_URL}/twilio/recording/status"
    whisper = dial.find("WhatsApp").get("url")
    assert whisper == f"{PUBLIC_BASE_URL}/twilio/voice/consent"
    consent = twiml(post("/twilio/voice/consent", status_form("in-progress", 2)))
    assert consent.find("Say").text == "This call may be recorded."


# --- POST /twilio/voice, inbound and dial-done (routing decides) ----------------------------

def test_whatsapp_caller_is_handed_to_inbound_routing(twilio_post, db, http_mock):
    http_mock.post(f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search", json={"total": 0, "results": []})
    form = {"CallSid": "CA" + "i" * 32, "AccountSid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "CallStatus": "ringing",
            "From": f"whatsapp:{CONTACT_PHONE}", "To": f"whatsapp:{SENDER}", "Direction": "inbound"}
    root = twiml(twilio_post("/twilio/voice", form))
    assert root.find("Say") is not None  # nobody is online in this test: the caller hears why
    call = Call.get(Call.sid == form["CallSid"])
    assert call.direction == "inbound" and call.from_number == CONTACT_PHONE
    done = twiml(twilio_post("/twilio/voice/dial-done", {**form, "DialCallStatus": "no-answer"}))
    assert done.find("Hangup") is not None


# --- POST /twilio/voice/status ----------------------------------------------------------------

def test_a_call_rings_connects_and_completes(twilio_post, placed_call, socket_inbox, agent):
    call = placed_call()
    inbox = socket_inbox(agent)
    for seq, status in enumerate(["initiated", "ringing", "in-progress"]):
        assert twilio_post("/twilio/voice/status", status_form(status, seq)).status_code == 204
    live = Call.get_by_id(call.id)
    assert live.sid == WHATSAPP_LEG and live.status == "in-progress" and live.answered_at is not None
    twilio_post("/twilio/voice/status", status_form("completed", 3, CallDuration="47"))
    done = Call.get_by_id(call.id)
    assert done.status == "completed" and done.duration_seconds == 47 and done.ended_at >= done.answered_at
    statuses = [m["call"]["status"] for m in inbox if m["type"] == "call_status"]
    assert statuses == ["queued", "ringing", "in-progress", "completed"]
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 0


def test_the_same_callback_twice_changes_nothing(twilio_post, placed_call, socket_inbox, agent):
    call = placed_call()
    twilio_post("/twilio/voice/status", status_form("ringing", 1))
    before = Call.get_by_id(call.id)
    inbox = socket_inbox(agent)
    assert twilio_post("/twilio/voice/status", status_form("ringing", 1)).status_code == 204
    after = Call.get_by_id(call.id)
    assert after.updated_at == before.updated_at and after.status == "ringing"
    assert inbox == []
    assert WebhookEvent.select().where(WebhookEvent.source == "twilio-voice-status").count() == 1


def test_a_final_callback_twice_counts_the_missed_call_once(twilio_post, placed_call):
    placed_call()
    for _ in range(2):
        twilio_post("/twilio/voice/status", status_form("no-answer", 2, CallDuration="0"))
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 1


def test_late_ringing_after_completed_is_ignored(twilio_post, placed_call):
    call = placed_call()
    twilio_post("/twilio/voice/status", status_form("completed", 3, CallDuration="20"))
    twilio_post("/twilio/voice/status", status_form("in-progress", 2))
    twilio_post("/twilio/voice/status", status_form("ringing", 1))
    done = Call.get_by_id(call.id)
    assert done.status == "completed" and done.duration_seconds == 20
    assert done.answered_at is not None  # inferred from the duration: the answered event came late
    assert (done.ended_at - done.answered_at).total_seconds() == 20


def test_unknown_call_status_changes_nothing(twilio_post, db):
    form = status_form("ringing", 1, sid="CA" + "9" * 32, parent="CA" + "8" * 32)
    response = twilio_post("/twilio/voice/status", form)
    assert response.status_code == 204
    assert WebhookEvent.select().count() == 0


def test_status_without_call_sid_is_400(twilio_post, db):
    response = twilio_post("/twilio/voice/status", {"CallStatus": "ringing"})
    assert response.status_code == 400


def test_unsigned_status_callback_is_rejected(twilio_post, placed_call):
    call = placed_call()
    response = twilio_post("/twilio/voice/status", status_form("completed", 3), signature="forged")
    assert response.status_code == 403
    assert Call.get_by_id(call.id).status == "queued"


def test_error_37000_means_the_permission_is_gone(twilio_post, placed_call, socket_inbox, agent):
    call = placed_call()
    inbox = socket_inbox(agent)
    twilio_post("/twilio/voice/status", status_form("failed", 1, ErrorCode="37000",
                                                    ErrorMessage="Call permission not granted by consumer"))
    failed = Call.get_by_id(call.id)
    assert failed.status == "failed" and failed.error_code == "37000"
    assert "permission" in failed.error_message
    permission = Permission.get(Permission.phone == CONTACT_PHONE)
    assert permission.status == "revoked"
    call_messages = [m for m in inbox if m["type"] == "call_status"]
    assert call_messages[-1]["call"]["error_code"] == "37000"


def test_error_37006_is_the_daily_cap_and_not_a_missed_call(twilio_post, placed_call):
    call = placed_call()
    twilio_post("/twilio/voice/status", status_form("failed", 1, ErrorCode="37006", ErrorMessage="Max calls"))
    failed = Call.get_by_id(call.id)
    assert failed.error_code == "37006" and "24 hours" in failed.error_message
    permission = Permission.get(Permission.phone == CONTACT_PHONE)
    assert permission.status == "granted" and permission.consecutive_missed == 0


def test_other_errors_show_twilios_text(twilio_post, placed_call):
    call = placed_call()
    twilio_post("/twilio/voice/status", status_form("failed", 1, ErrorCode="31005",
                                                    ErrorMessage="Connection error"))
    failed = Call.get_by_id(call.id)
    assert failed.error_code == "31005"
    assert failed.error_message == "Connection error"


@pytest.mark.parametrize("code, twilio_text, words", [
    ("37004", "Call rate limit exceeded", "too many calls"),
    ("37007", "Business-initiated calling is not available in the country", "country"),
    ("37008", "Outbound call fails due to invalid from number", "not a registered WhatsApp sender"),
])
def test_whatsapp_errors_are_explained_in_words_an_agent_can_act_on(twilio_post, placed_call, code, twilio_text,
                                                                     words):
    call = placed_call()
    twilio_post("/twilio/voice/status", status_form("failed", 1, ErrorCode=code, ErrorMessage=twilio_text))
    failed = Call.get_by_id(call.id)
    assert failed.error_code == code and words in failed.error_message and failed.error_message != twilio_text
    # refused before the contact's phone rang: not an unanswered call
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 0


@pytest.mark.parametrize("final", ["no-answer", "busy", "failed", "canceled"])
def test_an_unanswered_business_call_counts_as_missed(twilio_post, placed_call, final):
    placed_call()
    twilio_post("/twilio/voice/status", status_form(final, 2, CallDuration="0"))
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 1


def test_the_fourth_unanswered_call_revokes_the_permission(twilio_post, placed_call):
    for n in range(1, 5):
        leg, whatsapp = f"CA{n:032d}", f"CA{n + 10:032d}"
        placed_call(parent_sid=leg)
        twilio_post("/twilio/voice/status", status_form("ringing", 1, sid=whatsapp, parent=leg))
        twilio_post("/twilio/voice/status", status_form("no-answer", 2, sid=whatsapp, parent=leg, CallDuration="0"))
        permission = Permission.get(Permission.phone == CONTACT_PHONE)
        assert permission.consecutive_missed == n
        assert permission.status == ("revoked" if n == 4 else "granted")


def test_a_connected_call_resets_the_missed_count(twilio_post, placed_call):
    placed_call(parent_sid="CA" + "1" * 32)
    twilio_post("/twilio/voice/status", status_form("busy", 2, sid="CA" + "2" * 32, parent="CA" + "1" * 32))
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 1
    placed_call()
    twilio_post("/twilio/voice/status", status_form("in-progress", 2))
    twilio_post("/twilio/voice/status", status_form("completed", 3, CallDuration="30"))
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 0


def test_an_answered_inbound_call_counts_as_connected_not_business_initiated(twilio_post, agent, db, monkeypatch):
    from widget_app.permissions import ledger as permission_store
    results = []
    real = permission_store.record_call_result
    monkeypatch.setattr(permission_store, "record_call_result",
                        lambda phone, **kw: (results.append((phone, kw)), real(phone, **kw))[1])
    inbound_leg, agent_leg = "CA" + "i" * 32, "CA" + "a" * 32
    call = Call.create(direction="inbound", status="ringing", sid=inbound_leg, from_number=CONTACT_PHONE,
                       to_number=SENDER, agent=agent)
    twilio_post("/twilio/voice/status", status_form("in-progress", 2, sid=agent_leg, parent=inbound_leg))
    twilio_post("/twilio/voice/status", status_form("completed", 3, sid=agent_leg, parent=inbound_leg,
                                                    CallDuration="12"))
    done = Call.get_by_id(call.id)
    assert done.status == "completed" and done.duration_seconds == 12 and done.sid == inbound_leg
    assert [(phone, kw["connected"], kw["business_initiated"]) for phone, kw in results] == \
        [(CONTACT_PHONE, True, False)]


def test_an_inbound_agent_leg_nobody_answered_leaves_the_call_to_dial_done(twilio_post, agent, db):
    inbound_leg = "CA" + "i" * 32
    call = Call.create(direction="inbound", status="ringing", sid=inbound_leg, from_number=CONTACT_PHONE,
                       to_number=SENDER)
    twilio_post("/twilio/voice/status", status_form("no-answer", 2, sid="CA" + "a" * 32, parent=inbound_leg))
    assert Call.get_by_id(call.id).status == "ringing"
