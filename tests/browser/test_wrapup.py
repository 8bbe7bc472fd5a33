"""The rep's wrap-up in the HubSpot simulator (issue 14, items 1 and 8): notes typed during and after the
call are kept on the server as they are typed and survive a reload (HubSpot re-mounting the widget);
the ended screen comes back until the call is saved or deliberately discarded; Save, Save and call
again, Discard (confirmed) and Escape."""
import pytest
from playwright.sync_api import expect

from tests.browser.helpers import answered_call, permitted_keypad, the_call, wait_for_message, wait_for_row
from widget_app.models import Call, EngagementSync

pytestmark = pytest.mark.browser
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"


def reload_widget(page, times=2):
    """HubSpot re-mounts the widget: a fresh page in the same frame, signed in again by the cookie."""
    page.click("#reload-widget")
    wait_for_message(page, "INITIALIZED", count=times)
    return page.query_selector("#frame iframe").content_frame()


def ended_call(page, live_server):
    """An answered call to Dana that the rep hung up: the ended screen."""
    frame, errors = permitted_keypad(page, live_server)
    answered_call(page, frame)
    frame.click("#hangup")
    wait_for_message(page, "CALL_ENDED")
    frame.wait_for_selector("#screen-ended:not([hidden])")
    return frame, errors


def completed(page):
    return [e for e in page.evaluate("window.simulatorLog") if e["type"] == "CALL_COMPLETED"]


def test_notes_typed_during_and_after_the_call_survive_a_reload_and_are_saved(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    answered_call(page, frame)
    frame.fill("#call-notes", "Dana wants the blue one.")
    call = wait_for_row(lambda: (lambda c: c if c and c.notes == "Dana wants the blue one." else None)(the_call()))
    assert call is not None, "the notes typed during the call never reached the server"
    assert EngagementSync.select().count() == 0  # a draft is not a HubSpot write

    frame.click("#hangup")
    frame.wait_for_selector("#screen-ended:not([hidden])")
    expect(frame.locator("#notes")).to_have_value("Dana wants the blue one.")
    frame.fill("#notes", "Dana wants the blue one. Call back Friday.")
    frame.select_option("#outcome", NO_ANSWER)
    expect(frame.locator("#draft-status")).to_have_text("Draft saved")

    frame = reload_widget(page)
    frame.wait_for_selector("#screen-ended:not([hidden])")
    expect(frame.locator("#notes")).to_have_value("Dana wants the blue one. Call back Friday.")
    expect(frame.locator("#outcome")).to_have_value(NO_ANSWER)
    assert "+44 740 012 3456" in frame.text_content("#ended-summary")

    frame.click("#save-call")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert completed(page)[-1]["data"]["engagementProperties"]["hs_call_body"] == \
        "Dana wants the blue one. Call back Friday."
    row = wait_for_row(lambda: EngagementSync.get_or_none(EngagementSync.call == call.id))
    assert row.payload["properties"]["hs_call_body"] == "Dana wants the blue one. Call back Friday."
    assert Call.get_by_id(call.id).wrapup == "saved"

    frame = reload_widget(page, times=3)  # saved: the keypad, not the ended screen again
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    page.wait_for_timeout(1500)  # the resumed session has looked for a call to bring back
    assert frame.is_visible("#screen-keypad") and frame.is_hidden("#screen-ended")
    assert errors == []


def test_notes_typed_just_before_a_reload_are_not_lost(page, live_server):
    frame, errors = ended_call(page, live_server)
    frame.fill("#notes", "Typed and gone at once.")
    frame = reload_widget(page)  # no pause: the draft leaves with the page (keepalive)
    frame.wait_for_selector("#screen-ended:not([hidden])")
    expect(frame.locator("#notes")).to_have_value("Typed and gone at once.")
    assert errors == []


def test_discard_asks_first_and_escape_keeps_the_notes(page, live_server):
    frame, errors = ended_call(page, live_server)
    call = the_call()
    frame.fill("#notes", "Not worth logging.")
    expect(frame.locator("#draft-status")).to_have_text("Draft saved")

    frame.press("#notes", "Escape")
    expect(frame.locator("#discard-confirm")).to_be_visible()
    assert frame.evaluate("document.activeElement.id") == "discard-yes"
    frame.press("#discard-yes", "Escape")  # Escape again: keep editing
    expect(frame.locator("#discard-confirm")).to_be_hidden()
    expect(frame.locator("#notes")).to_have_value("Not worth logging.")
    assert frame.is_visible("#screen-ended")

    frame.click("#discard-call")
    frame.click("#discard-no")
    expect(frame.locator("#discard-confirm")).to_be_hidden()
    assert Call.get_by_id(call.id).wrapup is None

    frame.click("#discard-call")
    frame.click("#discard-yes")
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    assert wait_for_row(lambda: Call.get_by_id(call.id).wrapup == "discarded")
    assert Call.get_by_id(call.id).notes is None
    assert completed(page)[-1]["data"]["engagementProperties"] == {}  # HubSpot's engagement is closed
    assert EngagementSync.select().count() == 0

    frame = reload_widget(page)
    frame.wait_for_selector("#screen-keypad:not([hidden])")
    page.wait_for_timeout(1500)
    assert frame.is_hidden("#screen-ended")
    assert errors == []


def test_save_and_call_again_saves_then_dials_the_same_contact(page, live_server):
    frame, errors = ended_call(page, live_server)
    first = the_call()
    frame.fill("#notes", "First try.")
    frame.click("#save-redial")
    wait_for_message(page, "OUTGOING_CALL_STARTED", count=2)
    assert completed(page)[-1]["data"]["engagementProperties"]["hs_call_body"] == "First try."
    frame.wait_for_selector("#screen-calling:not([hidden])", timeout=10000)
    assert "+44 740 012 3456" in frame.text_content("#screen-calling")
    assert wait_for_row(lambda: Call.select().where(Call.direction == "outbound").count() == 2)
    assert Call.get_by_id(first.id).notes == "First try." and Call.get_by_id(first.id).wrapup == "saved"
    expect(frame.locator("#call-notes")).to_have_value("")  # the new call starts with no notes
    assert errors == []
