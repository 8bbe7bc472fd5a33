"""Incoming WhatsApp calls in the HubSpot simulator (headless Chromium, demo mode): "contact calls in"
drives the real signed /twilio/voice webhook, the signed-in, available widget rings over its socket,
and HubSpot hears INCOMING_CALL, CALL_ANSWERED, NAVIGATE_TO_RECORD, CALL_ENDED and CALL_COMPLETED.
A ring sent while the widget's socket was away is found again through /api/calls/ringing."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    DANA,
    agent_can_take_calls,
    ring,
    sign_in,
    signed_in_and_available,
    wait_for_message,
    wait_for_row,
)
from widget_app.agents.accounts import create_agent
from widget_app.hubspot.engagements import drain
from widget_app.models import Agent, Call, CallRing, db

pytestmark = pytest.mark.browser


def sdk_messages(page, message_type):
    return [e for e in page.evaluate("window.simulatorLog") if e["type"] == message_type]


def test_contact_calls_in_rings_the_widget_and_accepting_answers_in_hubspot(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    live_server.app.extensions.pop("hubspot_contact_cache", None)  # a cold cache: HubSpot answers after the ring
    call = ring(page, frame)

    incoming = wait_for_message(page, "INCOMING_CALL")
    assert incoming["dir"] == "in"
    assert incoming["data"]["externalCallId"] == call.sid  # hs_call_external_id, as the server writes it
    assert incoming["data"]["fromNumber"] == DANA
    assert incoming["data"]["toNumber"] == call.to_number
    assert incoming["data"]["createEngagement"] is False  # every rung agent sends this: the server logs the call
    assert isinstance(incoming["data"]["callStartTime"], (int, float))
    # the ring came before HubSpot's answer: the socket's call_contact names the caller on the same screen
    # (#status: only the card announces the name; HubSpot's own caller-ID match fills the screen without it)
    expect(frame.locator("#status")).to_have_text("Incoming WhatsApp call from Dana Demo.")
    assert "Dana Demo" in frame.text_content("#screen-incoming")
    assert DANA in frame.text_content("#screen-incoming").replace(" ", "")
    frame.wait_for_function("() => document.getElementById('caller-contact').textContent.includes('dana.demo@example.com')")

    frame.click("#accept")
    answered = wait_for_message(page, "CALL_ANSWERED")
    assert answered["data"] == {"externalCallId": call.sid}
    frame.wait_for_selector("#screen-calling:not([hidden])")
    navigate = wait_for_message(page, "NAVIGATE_TO_RECORD")
    assert navigate["data"]["objectCoordinates"] == {"portalId": 123, "objectId": 1001, "objectTypeId": "0-1"}
    taken = wait_for_row(lambda: Call.get(Call.id == call.id).answered_at is not None and Call.get(Call.id == call.id))
    assert taken.agent.email == "demo@example.com" and taken.status == "in-progress"
    assert sdk_messages(page, "CREATE_ENGAGEMENT_SUCCEEDED") == []

    # The caller hangs up: the same call-ended and save flow as an outbound call.
    page.click("#contact-hang-up-inbound")
    ended = wait_for_message(page, "CALL_ENDED")
    assert ended["data"]["externalCallId"] == call.sid and ended["data"]["callEndStatus"] == "COMPLETED"
    frame.wait_for_selector("#screen-ended:not([hidden])")
    frame.fill("#notes", "Asked about the invoice.")
    frame.click("#save-call")
    completed = wait_for_message(page, "CALL_COMPLETED")
    assert completed["data"]["externalCallId"] == call.sid
    assert completed["data"]["engagementProperties"]["hs_call_body"] == "Asked about the invoice."
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert len(sdk_messages(page, "CALL_ANSWERED")) == 1
    assert logged_in_hubspot(live_server, call) == ["Asked about the invoice."]
    assert errors == []


def logged_in_hubspot(live_server, call) -> list:
    """Run the outbox against the demo HubSpot; the hs_call_body of every engagement it holds for the call."""
    drain(live_server.app)
    cloud = live_server.app.extensions["hubspot_demo_cloud"]
    return [engagement["properties"].get("hs_call_body") for engagement in cloud.calls.values()
            if engagement["properties"].get("hs_call_external_id") == call.sid]


@pytest.mark.parametrize("hang_up", ["#contact-hang-up-inbound", "#hangup"], ids=["contact_hangs_up", "agent_hangs_up"])
def test_a_reload_during_an_answered_call_brings_back_the_calling_screen(page, live_server, hang_up):
    frame, errors = signed_in_and_available(page, live_server)
    call = ring(page, frame)
    frame.click("#accept")
    wait_for_message(page, "CALL_ANSWERED")
    assert wait_for_row(lambda: Call.get_by_id(call.id).answered_at is not None)

    page.click("#reload-widget")
    wait_for_message(page, "INITIALIZED", count=2)
    frame = page.query_selector("#frame iframe").content_frame()
    frame.wait_for_selector("#screen-calling:not([hidden])")
    assert DANA in frame.text_content("#screen-calling").replace(" ", "")
    expect(frame.locator("#timer")).not_to_have_text("00:00")  # it runs from the server's answered_at

    (frame if hang_up == "#hangup" else page).click(hang_up)
    ended = wait_for_message(page, "CALL_ENDED")
    assert ended["data"]["externalCallId"] == call.sid and ended["data"]["callEndStatus"] == "COMPLETED"
    frame.wait_for_selector("#screen-ended:not([hidden])")
    assert wait_for_row(lambda: Call.get_by_id(call.id).status == "completed")
    frame.fill("#notes", "Called back after the reload.")
    frame.click("#save-call")
    assert wait_for_message(page, "CALL_COMPLETED")["data"]["externalCallId"] == call.sid
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert wait_for_row(lambda: Call.get_by_id(call.id).notes == "Called back after the reload.")
    assert len(sdk_messages(page, "INCOMING_CALL")) == 1 and len(sdk_messages(page, "CALL_ANSWERED")) == 1
    assert errors == []


def test_declining_ends_the_call_in_hubspot_and_stops_ringing(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    call = ring(page, frame)
    wait_for_message(page, "INCOMING_CALL")

    frame.click("#decline")
    ended = wait_for_message(page, "CALL_ENDED")
    assert ended["data"]["externalCallId"] == call.sid and ended["data"]["callEndStatus"] == "CANCELED"
    assert wait_for_message(page, "CALL_COMPLETED")["data"]["externalCallId"] == call.sid
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    # The only agent it rang declined: the server records the ring declined and the call missed.
    assert wait_for_row(lambda: CallRing.get(CallRing.call == call.id).declined_at is not None)
    assert wait_for_row(lambda: Call.get(Call.id == call.id).status == "no-answer")
    assert sdk_messages(page, "CALL_ANSWERED") == []
    assert errors == []


def test_a_caller_who_hangs_up_while_ringing_is_a_missed_call(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    call = ring(page, frame)
    wait_for_message(page, "INCOMING_CALL")

    page.click("#contact-hang-up-inbound")
    ended = wait_for_message(page, "CALL_ENDED")
    assert ended["data"]["externalCallId"] == call.sid and ended["data"]["callEndStatus"] == "MISSED"
    wait_for_message(page, "CALL_COMPLETED")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    status = frame.text_content("#status")
    assert status.startswith("Missed call from") and DANA in status.replace(" ", "")
    assert errors == []


def test_an_unavailable_agent_is_not_rung(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    frame.uncheck("#available")
    wait_for_message(page, "USER_UNAVAILABLE")
    assert wait_for_row(lambda: not Agent.get(Agent.email == "demo@example.com").available)

    page.click("#contact-call-in")
    call = wait_for_row(lambda: Call.get_or_none(Call.direction == "inbound", Call.status == "no-answer"))
    assert call is not None, "nobody was available, so the call is recorded as missed"
    assert frame.is_hidden("#screen-incoming")
    assert sdk_messages(page, "INCOMING_CALL") == []
    assert errors == []


def test_a_ring_lost_with_the_socket_is_found_again_after_the_reconnect(page, live_server):
    """The socket drops the incoming_call (a network blip), then closes; the reconnected widget asks
    /api/calls/ringing and rings anyway."""
    sockets = []

    def through(ws):
        """Forward the widget's socket to the server; the first one swallows incoming_call."""
        server = ws.connect_to_server()
        first = not sockets
        sockets.append(ws)

        def to_widget(message):
            if first and '"incoming_call"' in str(message):
                return
            ws.send(message)
        server.on_message(to_widget)
        ws.on_message(server.send)

    page.context.route_web_socket("**/ws?ticket=*", through)
    frame, errors = signed_in_and_available(page, live_server)
    assert len(sockets) == 1

    page.click("#contact-call-in")
    call = wait_for_row(lambda: Call.get_or_none(Call.direction == "inbound", Call.status == "ringing"))
    assert call is not None
    assert frame.is_hidden("#screen-incoming"), "the socket swallowed the ring"

    with page.expect_request("**/api/calls/ringing") as ringing:
        sockets[0].close(code=4000, reason="blip")  # the widget's side only: the server still counts it online
    assert ringing.value.response().ok
    frame.wait_for_selector("#screen-incoming:not([hidden])")
    assert len(sockets) == 2
    assert wait_for_message(page, "INCOMING_CALL")["data"]["externalCallId"] == call.sid
    frame.click("#accept")
    assert wait_for_message(page, "CALL_ANSWERED")["data"]["externalCallId"] == call.sid
    assert errors == []


def test_the_first_agent_to_accept_takes_the_call_and_the_other_stops_ringing(page, browser, live_server):
    with db.connection_context():
        create_agent("sam@example.com", "Sam Second", "second-password")
    other_context = browser.new_context(viewport={"width": 1200, "height": 800})
    try:
        other = other_context.new_page()
        other_frame, other_errors = signed_in_and_available(other, live_server, "sam@example.com", "second-password",
                                                            owner=None)
        frame, errors = signed_in_and_available(page, live_server)
        # One HubSpot owner routes to one agent; with Dana's owner unlinked, the call rings everyone available.
        with db.connection_context():
            Agent.update(hubspot_owner_id=None).execute()
        call = ring(page, frame)
        other_frame.wait_for_selector("#screen-incoming:not([hidden])")
        assert wait_for_message(other, "INCOMING_CALL")["data"]["externalCallId"] == call.sid

        frame.click("#accept")
        wait_for_message(page, "CALL_ANSWERED")
        # Sam's widget hears call_claimed: it stops ringing and closes HubSpot's engagement as missed.
        ended = wait_for_message(other, "CALL_ENDED")
        assert ended["data"]["externalCallId"] == call.sid and ended["data"]["callEndStatus"] == "MISSED"
        assert wait_for_message(other, "CALL_COMPLETED")["data"]["externalCallId"] == call.sid
        other_frame.wait_for_selector("#screen-keypad:not([hidden])")
        assert other_frame.text_content("#status") == "Taken by another agent."
        assert sdk_messages(other, "CALL_ANSWERED") == []
        assert wait_for_row(lambda: Call.get(Call.id == call.id).agent.email == "demo@example.com")
        page.click("#contact-hang-up-inbound")
        assert wait_for_row(lambda: Call.get(Call.id == call.id).status == "completed")
        # One engagement for the call, though it rang two widgets: neither asked HubSpot for one.
        assert sdk_messages(page, "CREATE_ENGAGEMENT_SUCCEEDED") == sdk_messages(other, "CREATE_ENGAGEMENT_SUCCEEDED") == []
        assert logged_in_hubspot(live_server, call) == [None]
        assert errors == [] and other_errors == []
    finally:
        other_context.close()


def test_signing_out_closes_the_socket(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    frame.click("#logout")
    wait_for_message(page, "LOGGED_OUT")
    # The server marks an agent offline the moment their last socket closes: nobody rings them now.
    assert wait_for_row(lambda: Agent.get(Agent.email == "demo@example.com").last_seen_at is None)
    page.click("#contact-call-in")
    assert wait_for_row(lambda: Call.get_or_none(Call.direction == "inbound", Call.status == "no-answer"))
    assert sdk_messages(page, "INCOMING_CALL") == []
    assert errors == []


def test_in_the_calling_window_only_the_window_copy_rings_and_the_remote_can_answer(page, live_server):
    from .test_calling_window import open_calling_window

    remote, window, popup, errors = open_calling_window(page, live_server)
    sign_in(window)
    wait_for_message(page, "LOGGED_IN")
    window.wait_for_selector("#screen-keypad:not([hidden])")
    window.check("#available")
    assert wait_for_row(agent_can_take_calls), "the window copy's socket never made the agent available"

    page.click("#contact-call-in")
    window.wait_for_selector("#screen-incoming:not([hidden])")
    incoming = wait_for_message(page, "INCOMING_CALL")
    assert incoming["copy"] == "window"
    remote.wait_for_selector("#screen-incoming:not([hidden])")  # mirrored over the BroadcastChannel
    # the contact card comes after the ring (issue 16): the window copy passes the name on to the remote
    expect(remote.locator('#screen-incoming [data-bind="party"]')).to_contain_text("Dana Demo")

    remote.click("#accept")  # forwarded to the window copy, which holds the call
    answered = wait_for_message(page, "CALL_ANSWERED")
    assert answered["copy"] == "window"
    window.wait_for_selector("#screen-calling:not([hidden])")
    sent_by_remote = [e["type"] for e in page.evaluate("window.simulatorLog")
                      if e["dir"] == "in" and e["copy"] == "remote"]
    assert not {"INCOMING_CALL", "CALL_ANSWERED", "USER_AVAILABLE", "NAVIGATE_TO_RECORD"} & set(sent_by_remote)
    assert errors == []


# A stand-in for Twilio's Voice SDK: phone.js's livePhone drives it exactly as it drives Twilio.Device.
FAKE_TWILIO_DEVICE = """async () => {
    class FakeIncoming {
        constructor(callId) { Object.assign(this, { customParameters: new Map([['CallId', String(callId)]]), handlers: {} }); }
        on(name, fn) { (this.handlers[name] ||= []).push(fn); }
        emit(name) { (this.handlers[name] || []).forEach((fn) => fn()); }
        accept() { this.accepted = true; this.emit('accept'); }
        reject() { this.rejected = true; this.emit('reject'); }
        disconnect() { this.disconnected = true; this.emit('disconnect'); }
        mute() {}
    }
    class FakeDevice {
        constructor() { this.handlers = {}; window.fakeDevice = this; }
        on(name, fn) { (this.handlers[name] ||= []).push(fn); }
        register() { return Promise.resolve(); }
        updateToken() {}
        destroy() {}
        ring(callId) { this.incoming = new FakeIncoming(callId); (this.handlers.incoming || []).forEach((fn) => fn(this.incoming)); }
    }
    const widget = await import(document.querySelector('script[type=module]').src);  // the bundle the page runs: its own state
    const { livePhone } = widget;
    while (!widget.state.phone) await new Promise((resolve) => setTimeout(resolve, 50)); // the demo phone first
    widget.attachPhone(await livePhone({ Device: FakeDevice }));
}"""


def test_live_accept_waits_for_twilios_invite_then_picks_up_on_the_device(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    frame.evaluate(FAKE_TWILIO_DEVICE)
    call = ring(page, frame)
    wait_for_message(page, "INCOMING_CALL")

    frame.click("#accept")  # before Twilio's <Client> leg reached this browser: nothing is claimed yet
    frame.wait_for_selector("#accept[disabled]")
    with db.connection_context():
        assert Call.get_by_id(call.id).agent_id is None
    frame.evaluate("id => fakeDevice.ring(id)", call.id)

    answered = wait_for_message(page, "CALL_ANSWERED")
    assert answered["data"]["externalCallId"] == call.sid
    assert frame.evaluate("fakeDevice.incoming.accepted") is True
    frame.wait_for_selector("#screen-calling:not([hidden])")
    assert wait_for_row(lambda: Call.get_by_id(call.id).agent_id is not None)

    frame.click("#hangup")
    assert wait_for_message(page, "CALL_ENDED")["data"]["callEndStatus"] == "COMPLETED"
    assert frame.evaluate("fakeDevice.incoming.disconnected") is True
    assert errors == []


def test_live_decline_rejects_twilios_invite(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    frame.evaluate(FAKE_TWILIO_DEVICE)
    call = ring(page, frame)
    frame.evaluate("id => fakeDevice.ring(id)", call.id)
    frame.click("#decline")
    assert wait_for_message(page, "CALL_ENDED")["data"]["callEndStatus"] == "CANCELED"
    assert frame.evaluate("fakeDevice.incoming.rejected") is True
    assert errors == []


def test_a_ring_whose_end_was_lost_stops_after_twilios_ring_time(page, live_server):
    """The socket stays up but drops the call_status that ended the ring; the widget asks again later."""
    def through(ws):
        server = ws.connect_to_server()
        server.on_message(lambda message: None if '"call_status"' in str(message) else ws.send(message))
        ws.on_message(server.send)

    page.context.clock.install()
    page.context.route_web_socket("**/ws?ticket=*", through)
    frame, errors = signed_in_and_available(page, live_server)
    call = ring(page, frame)
    wait_for_message(page, "INCOMING_CALL")
    page.click("#contact-hang-up-inbound")
    assert wait_for_row(lambda: Call.get_by_id(call.id).status == "no-answer")
    assert frame.is_visible("#screen-incoming"), "the call_status was swallowed, so it still rings"

    page.context.clock.fast_forward(36000)
    ended = wait_for_message(page, "CALL_ENDED")
    assert ended["data"]["callEndStatus"] == "MISSED"
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert frame.text_content("#status") == "The call stopped ringing."
    assert errors == []
