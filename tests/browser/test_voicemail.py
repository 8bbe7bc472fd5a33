"""Voicemail in the HubSpot simulator (issue 15): a contact who calls after hours or while nobody answers
leaves a voicemail; it appears in the Missed list, plays through our authenticated recording link, and
Call back (the call-in granted a callback) reaches the dialing screen."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import axe_violations, signed_in_and_available, wait_for_message, wait_for_row
from widget_app.models import Agent, Call

pytestmark = pytest.mark.browser

AUDIO_LOADED = """() => { const audio = document.querySelector('#missed-list audio');
  return Boolean(audio) && audio.readyState >= 1 && audio.duration > 2.5; }"""


def voicemail_call():
    return Call.get_or_none(Call.direction == "inbound", Call.voicemail_seconds.is_null(False))


def test_a_voicemail_left_after_hours_is_listed_plays_and_call_back_dials(page, live_server):
    live_server.app.config["CALLBACK_PERMISSION"] = True  # Meta's callback permission: the call-in grants it
    frame, errors = signed_in_and_available(page, live_server)
    frame.uncheck("#available")
    wait_for_message(page, "USER_UNAVAILABLE")
    assert wait_for_row(lambda: not Agent.get(Agent.email == "demo@example.com").available)

    page.click("#contact-call-in-after-hours")
    assert wait_for_row(lambda: Call.get_or_none(Call.direction == "inbound", Call.status == "no-answer"))
    page.click("#contact-leave-voicemail")
    call = wait_for_row(voicemail_call)
    assert call is not None and call.voicemail_seconds == 3

    frame.click("#show-missed")
    frame.wait_for_selector("#screen-missed:not([hidden])")
    expect(frame.locator("#missed-list li")).to_have_count(1)
    expect(frame.locator("#missed-list li")).to_contain_text("Voicemail 0:03")
    expect(frame.locator("#missed-list li")).to_contain_text("After hours")
    assert axe_violations(frame) == []

    frame.click("#missed-list [data-voicemail]")
    frame.wait_for_function(AUDIO_LOADED, timeout=10000)  # our link streamed the demo Twilio's WAV
    src = frame.get_attribute("#missed-list audio", "src")
    assert src.startswith(f"/hubspot/recordings/{call.sid}/audio?token=")
    assert axe_violations(frame) == []

    frame.click("#missed-list [data-callback]")
    frame.wait_for_selector("#screen-calling:not([hidden])", timeout=10000)  # no permission request needed
    assert Call.select().where(Call.direction == "outbound").count() == 1
    assert errors == []


def test_a_voicemail_on_a_call_that_rang_out_reaches_the_missed_list(page, live_server):
    frame, errors = signed_in_and_available(page, live_server)
    page.click("#contact-call-in")
    frame.wait_for_selector("#screen-incoming:not([hidden])")
    page.click("#contact-leave-voicemail")  # nobody picks up: the Dial rings out, the caller records
    assert wait_for_row(voicemail_call) is not None
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    expect(frame.locator("#missed-badge")).to_have_text("1")
    frame.click("#show-missed")
    expect(frame.locator("#missed-list li")).to_contain_text("Voicemail 0:03")
    assert errors == []
