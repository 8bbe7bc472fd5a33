"""No call stays "in progress" forever: the sync worker asks Twilio's REST API about calls without news
for a few minutes and applies the answer through the status callback's logic."""
import threading
from datetime import timedelta

import requests
from freezegun import freeze_time

from tests.helpers import CONTACT_PHONE, TEST_SETTINGS, TWILIO_API
from widget_app.calls.reconcile import reconcile
from widget_app.core.clock import utcnow
from widget_app.hubspot import worker
from widget_app.models import Call, Permission

WHATSAPP_LEG = "CA" + "w" * 32
BROWSER_LEG = "CA" + "b" * 32
NOW = "2026-03-02 12:00:00"


def twilio_call(sid=WHATSAPP_LEG, status="completed", duration="95", parent=BROWSER_LEG):
    """Twilio's Call resource (GET /2010-04-01/Accounts/AC…/Calls/CA….json) as it answers."""
    return {"sid": sid, "account_sid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"], "api_version": "2010-04-01",
            "parent_call_sid": parent, "status": status, "duration": duration, "direction": "outbound-dial",
            "from": f"whatsapp:{TEST_SETTINGS['TWILIO_WHATSAPP_NUMBER']}", "to": f"whatsapp:{CONTACT_PHONE}",
            "start_time": "Mon, 02 Mar 2026 11:40:00 +0000", "end_time": "Mon, 02 Mar 2026 11:41:35 +0000",
            "date_created": "Mon, 02 Mar 2026 11:39:58 +0000", "date_updated": "Mon, 02 Mar 2026 11:41:35 +0000",
            "price": None, "price_unit": "USD", "answered_by": None, "caller_name": None, "forwarded_from": None,
            "group_sid": None, "phone_number_sid": None, "queue_time": "0", "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{TEST_SETTINGS['TWILIO_ACCOUNT_SID']}/Calls/{sid}.json",
            "subresource_uris": {}}


def quiet_call(make_call, minutes=10, **fields):
    """A call whose last news is ``minutes`` old."""
    values = {"status": "in-progress", "sid": WHATSAPP_LEG, "parent_sid": BROWSER_LEG,
              "answered_at": utcnow() - timedelta(minutes=minutes + 1), "updated_at": utcnow() - timedelta(minutes=minutes)}
    return make_call(initiated=True, **{**values, **fields})


@freeze_time(NOW)
def test_a_call_left_in_progress_is_finished_from_twilios_record(app_ctx, make_call, http_mock, socket_inbox, agent):
    call = quiet_call(make_call)
    inbox = socket_inbox(agent)
    http_mock.get(f"{TWILIO_API}/Calls/{WHATSAPP_LEG}.json", json=twilio_call())
    assert reconcile() == 1
    call = Call.get_by_id(call.id)
    assert call.status == "completed" and call.duration_seconds == 95 and call.ended_at is not None
    assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 0
    assert [m["call"]["status"] for m in inbox if m["type"] == "call_status"] == ["completed"]


@freeze_time(NOW)
def test_a_call_with_recent_news_is_not_asked_about(app_ctx, make_call, http_mock):
    quiet_call(make_call, minutes=1)
    assert reconcile() == 0 and len(http_mock.calls) == 0


@freeze_time(NOW)
def test_a_call_twilio_still_reports_in_progress_is_left_alone(app_ctx, make_call, http_mock):
    call = quiet_call(make_call)
    http_mock.get(f"{TWILIO_API}/Calls/{WHATSAPP_LEG}.json", json=twilio_call(status="in-progress", duration=None))
    assert reconcile() == 0
    assert Call.get_by_id(call.id).status == "in-progress"


@freeze_time(NOW)
def test_a_final_status_that_already_arrived_is_not_applied_twice(app_ctx, make_call, http_mock):
    call = quiet_call(make_call)
    http_mock.get(f"{TWILIO_API}/Calls/{WHATSAPP_LEG}.json", json=twilio_call())
    reconcile()
    Call.update(updated_at=utcnow() - timedelta(minutes=10)).where(Call.id == call.id).execute()
    assert reconcile() == 0


@freeze_time(NOW)
def test_an_inbound_call_whose_dial_action_was_lost_becomes_missed(app_ctx, http_mock):
    call = Call.create(direction="inbound", status="ringing", sid=WHATSAPP_LEG, from_number=CONTACT_PHONE,
                       to_number=TEST_SETTINGS["TWILIO_WHATSAPP_NUMBER"], started_at=utcnow() - timedelta(minutes=9),
                       updated_at=utcnow() - timedelta(minutes=9))
    http_mock.get(f"{TWILIO_API}/Calls/{WHATSAPP_LEG}.json",
                  json=twilio_call(status="completed", duration="31", parent=None))
    assert reconcile() == 1
    assert Call.get_by_id(call.id).status == "no-answer"


@freeze_time(NOW)
def test_twilio_unreachable_leaves_the_call_for_the_next_pass(app_ctx, make_call, http_mock):
    call = quiet_call(make_call)
    http_mock.get(f"{TWILIO_API}/Calls/{WHATSAPP_LEG}.json", body=requests.ConnectionError("refused"))
    assert reconcile() == 0
    assert Call.get_by_id(call.id).status == "in-progress"


@freeze_time(NOW)
def test_the_sync_worker_loop_reconciles(app, db, make_call, http_mock):
    call = quiet_call(make_call)
    http_mock.get(f"{TWILIO_API}/Calls/{WHATSAPP_LEG}.json", json=twilio_call())

    class OnePass(threading.Event):
        def wait(self, timeout=None):
            self.set()
            return True

    db.close()  # the worker opens its own connection
    worker.run_forever(app, OnePass())
    db.connect(reuse_if_open=True)
    assert Call.get_by_id(call.id).status == "completed"
