"""A portal still sending HubSpot's deprecated ENGAGEMENT_CREATED: the widget keeps that engagement as it
keeps CREATE_ENGAGEMENT_SUCCEEDED's, so the outbox updates it instead of creating a second one."""
import pytest

from tests.browser.helpers import answered_call, permitted_keypad, save_notes, the_call, wait_for_message, wait_for_row
from widget_app.hubspot.engagements import drain
from widget_app.models import Call

pytestmark = pytest.mark.browser


def test_engagement_created_is_kept_and_the_outbox_updates_it(page, live_server):
    frame, errors = permitted_keypad(page, live_server)
    page.uncheck("#auto-engagement")  # this HubSpot answers with the legacy message only
    answered_call(page, frame)
    call = wait_for_row(the_call)
    page.evaluate("window.simulatorHost.send('ENGAGEMENT_CREATED', { engagementId: 4242 })")
    assert wait_for_row(lambda: Call.get_by_id(call.id).engagement_id == "4242")
    frame.click("#hangup")
    assert wait_for_message(page, "CALL_ENDED")["data"]["engagementId"] == 4242
    assert save_notes(page, frame, "Logged on a legacy portal.")["data"]["engagementId"] == 4242
    assert wait_for_row(lambda: Call.get_by_id(call.id).notes == "Logged on a legacy portal.")
    drain(live_server.app)
    cloud = live_server.app.extensions["hubspot_demo_cloud"]
    assert list(cloud.calls) == ["4242"]
    assert cloud.calls["4242"]["properties"]["hs_call_body"] == "Logged on a legacy portal."
    assert errors == []
