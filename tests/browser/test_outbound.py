"""Outbound WhatsApp calls in the HubSpot simulator (headless Chromium, demo mode): the demo phone dials
through the simulated Twilio, which drives our real signed /twilio/voice and status webhooks; HubSpot
hears OUTGOING_CALL_STARTED, CALL_ANSWERED, CALL_ENDED and CALL_COMPLETED in that order, and the call
row keeps status, duration, notes and HubSpot's engagement id."""

import pytest

from tests.browser.helpers import (
    CALL_MESSAGES,
    DANA,
    answered_call,
    permitted_keypad,
    save_notes,
    the_call,
    wait_for_message,
    wait_for_row,
)
from widget_app.models import Call, db
from widget_app.permissions.ledger import permission_json

pytestmark = pytest.mark.browser


def sent_by_widget(page):
    return [e["type"] for e in page.evaluate("window.simulatorLog") if e["dir"] == "in" and e["type"] in CALL_MESSAGES]


def test_a_call_the_agent_hangs_up_is_logged_in_order_with_notes(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    started = answered_call(page, frame)
    call = wait_for_row(the_call)
    assert started["data"]["externalCallId"] == f"wa-call-{call.id}"
    assert started["data"]["toNumber"] == DANA
    assert started["data"]["fromNumber"] == call.from_number
    assert started["data"]["createEngagement"] is True
    assert isinstance(started["data"]["callStartTime"], (int, float))
    engagement_id = wait_for_message(page, "CREATE_ENGAGEMENT_SUCCEEDED")["data"]["engagementId"]
    assert wait_for_message(page, "CALL_ANSWERED")["data"] == {"externalCallId": f"wa-call-{call.id}"}

    frame.click("#hangup")
    ended = wait_for_message(page, "CALL_ENDED")
    assert ended["data"] == {"externalCallId": f"wa-call-{call.id}", "engagementId": engagement_id,
                             "callEndStatus": "COMPLETED"}
    completed = save_notes(page, frame, "Dana wants the blue one.")
    assert completed["data"]["engagementId"] == engagement_id
    assert completed["data"]["externalCallId"] == f"wa-call-{call.id}"
    assert completed["data"]["hideWidget"] is False
    assert sent_by_widget(page) == CALL_MESSAGES

    row = wait_for_row(lambda: Call.get_or_none((Call.id == call.id) & (Call.status == "completed")
                                              & Call.duration_seconds.is_null(False)))
    assert row is not None, "the completed status callback never reached the call"
    assert row.notes == "Dana wants the blue one."
    assert row.engagement_id == str(engagement_id)
    assert row.answered_at is not None and row.duration_seconds >= 1
    assert errors == []


def test_the_contact_hanging_up_ends_the_call_as_completed(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    answered_call(page, frame)
    page.click("#contact-hangs-up")
    assert wait_for_message(page, "CALL_ENDED")["data"]["callEndStatus"] == "COMPLETED"
    frame.wait_for_selector("#screen-ended:not([hidden])")
    save_notes(page, frame, "")
    assert sent_by_widget(page) == CALL_MESSAGES
    assert errors == []


def test_no_answer_ends_with_no_answer_and_counts_a_missed_call(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    page.click("#contact-no-answer")  # the contact will let the next call ring out
    wait_for_message(page, "contact no answer")
    frame.click("#call")
    ended = wait_for_message(page, "CALL_ENDED", timeout=15000)
    assert ended["data"]["callEndStatus"] == "NO_ANSWER"
    assert "CALL_ANSWERED" not in sent_by_widget(page)
    frame.wait_for_selector("#screen-ended:not([hidden])")
    assert "no answer" in frame.text_content("#ended-summary")
    with live_server.app.app_context(), db.connection_context():
        assert permission_json(DANA)["consecutive_missed"] == 1
        assert the_call().status == "no-answer"
    assert errors == []


def test_a_declined_call_ends_busy(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    page.click("#contact-declines-call")
    wait_for_message(page, "contact decline")
    frame.click("#call")
    assert wait_for_message(page, "CALL_ENDED", timeout=15000)["data"]["callEndStatus"] == "BUSY"
    assert errors == []


def test_a_reload_during_the_call_brings_back_the_calling_screen(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    answered_call(page, frame)
    page.click("#reload-widget")
    wait_for_message(page, "INITIALIZED", count=2)
    frame = page.query_selector("#frame iframe").content_frame()
    frame.wait_for_selector("#screen-calling:not([hidden])")
    assert "+44 740 012 3456" in frame.text_content("#screen-calling")
    frame.click("#hangup")
    assert wait_for_message(page, "CALL_ENDED")["data"]["callEndStatus"] == "COMPLETED"
    assert sent_by_widget(page).count("OUTGOING_CALL_STARTED") == 1
    assert errors == []


# Twilio's Voice SDK cannot reach Twilio here: a stand-in Device records what phone.js asks of it.
FAKE_TWILIO_PHONE = """async (denyMicrophone) => {
    if (denyMicrophone) {
        navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));
    }
    class FakeCall {
        constructor(params) { Object.assign(this, { params, handlers: {}, muted: false, digits: '' }); }
        on(name, fn) { (this.handlers[name] ||= []).push(fn); }
        mute(on) { this.muted = on; }
        sendDigits(digits) { this.digits += digits; }
        disconnect() { this.disconnected = true; (this.handlers.disconnect || []).forEach((fn) => fn()); }
    }
    class FakeDevice {
        constructor(token, options) { Object.assign(this, { token, options, handlers: {} }); window.fakeDevice = this; }
        on(name, fn) { (this.handlers[name] ||= []).push(fn); }
        emit(name, ...args) { (this.handlers[name] || []).forEach((fn) => fn(...args)); }
        register() { this.registered = true; return Promise.resolve(); }
        updateToken(token) { this.updatedToken = token; }
        async connect({ params }) { this.call = new FakeCall(params); return this.call; }
        destroy() { this.destroyed = true; }
    }
    const widget = await import(document.querySelector('script[type=module]').src);  // the bundle the page runs: its own state
    const { livePhone } = widget;
    widget.attachPhone(await livePhone({ Device: FakeDevice }));
}"""


def test_the_live_phone_dials_through_twilio_device_with_the_servers_params(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    frame.evaluate(FAKE_TWILIO_PHONE, False)
    device = frame.evaluate("({ token: fakeDevice.token, options: fakeDevice.options, registered: fakeDevice.registered })")
    assert device["token"].count(".") == 2  # a JWT from /api/voice/token
    assert device["options"]["codecPreferences"] == ["opus", "pcmu"]
    assert device["registered"] is True

    frame.click("#call")
    wait_for_message(page, "OUTGOING_CALL_STARTED")
    frame.wait_for_function("() => window.fakeDevice.call !== undefined")
    call = wait_for_row(the_call)
    assert frame.evaluate("fakeDevice.call.params") == {"To": DANA, "CallId": str(call.id), "Sender": call.from_number}

    frame.evaluate("fakeDevice.emit('tokenWillExpire')")
    frame.wait_for_function("() => typeof window.fakeDevice.updatedToken === 'string'")

    frame.click("#cancel-call")  # Twilio never asked for this call: the server just closes it
    assert wait_for_message(page, "CALL_ENDED")["data"]["callEndStatus"] == "CANCELED"
    assert frame.evaluate("fakeDevice.call.disconnected") is True
    assert wait_for_row(lambda: Call.get_or_none((Call.id == call.id) & (Call.status == "canceled")))
    assert errors == []


def test_a_denied_microphone_is_explained_and_nothing_is_dialled(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    frame.evaluate(FAKE_TWILIO_PHONE, True)
    frame.click("#call")
    frame.wait_for_selector("#error:not([hidden])")
    assert "blocked the microphone" in frame.text_content("#error")
    assert "blocked the microphone" in wait_for_message(page, "ERROR")["data"]["message"]
    assert frame.is_visible("#screen-keypad")
    assert sent_by_widget(page) == []
    with db.connection_context():
        assert the_call() is None
    assert errors == []
