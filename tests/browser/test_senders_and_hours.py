"""The keypad shows which of our numbers is closed now and when it opens, and leaves out senders that
cannot call out (Meta forbids business-initiated calls from their country)."""
from datetime import timedelta

from tests.browser.helpers import open_simulator, sign_in, widget_frame
from widget_app.calls import hours as business_hours
from widget_app.calls.senders import add_sender
from widget_app.core.clock import utcnow
from widget_app.models import db

SENDER = "+442071838750"  # demo mode's sender
US_SENDER = "+12126647665"


def test_the_keypad_says_a_number_is_closed_and_leaves_out_senders_that_cannot_call_out(page, live_server):
    tomorrow = (utcnow() + timedelta(days=1)).strftime("%a").lower()
    with live_server.app.app_context(), db.connection_context():
        add_sender(US_SENDER, "New York")
        business_hours.set_hours(SENDER, "UTC", f"{tomorrow} 09:00-10:00")  # closed today, whatever the time
    open_simulator(page, live_server)
    frame = widget_frame(page, live_server)
    sign_in(frame)
    frame.wait_for_selector("#hours-note:not([hidden])")
    assert frame.text_content("#hours-note") == f"Default sender: closed now, opens {tomorrow.title()} 09:00"
    options = frame.eval_on_selector_all("#from-number option", "options => options.map(o => o.value)")
    assert options == [SENDER]
    assert frame.is_hidden("#no-outbound")
