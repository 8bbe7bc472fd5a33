"""Calls that went quiet: a status callback lost (a database blip, a worker restart) must not leave a
call "in progress" forever. Twilio's REST API says what became of it, applied as a callback would be."""
import logging
from datetime import timedelta

from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException

from widget_app.calls import inbound
from widget_app.calls.progress import FINAL_STATUSES, StatusUpdate, apply_status_callback
from widget_app.core.clock import utcnow
from widget_app.models import Call
from widget_app.twilio.client import twilio_client

log = logging.getLogger(__name__)
QUIET_MINUTES = 5  # no news for this long: ask Twilio
OPEN_STATUSES = ("queued", "initiated", "ringing", "in-progress")
BATCH = 50  # calls asked about per pass, oldest news first


def quiet_calls() -> list[Call]:
    """Open calls Twilio knows (they have a CallSid) and we have heard nothing about for a while."""
    cutoff = utcnow() - timedelta(minutes=QUIET_MINUTES)
    return list(Call.select().where(Call.status.in_(OPEN_STATUSES), Call.sid.is_null(False),
                                    Call.updated_at < cutoff).order_by(Call.updated_at).limit(BATCH))


def reconcile() -> int:
    """Ask Twilio about every quiet call and apply its answer; returns how many calls changed."""
    changed = 0
    for call in quiet_calls():
        try:
            record = twilio_client().calls(call.sid).fetch()
        except TwilioRestException as exc:
            log.warning("reconcile: Twilio has no record of call %s (%s %s)", call.id, exc.status, exc.code)
            continue
        except (TwilioException, RequestException) as exc:
            log.warning("reconcile: Twilio unreachable (%s); call %s waits for the next pass",
                        exc.__class__.__name__, call.id)
            return changed
        changed += apply_twilio_record(call, record.status, record.duration)
    return changed


def apply_twilio_record(call: Call, status: str, duration) -> bool:
    """What Twilio says of the call's own leg, through the status callback's logic (forward only, once)."""
    if status in OPEN_STATUSES and status == call.status:
        return False
    before = (call.status, call.updated_at)
    if call.direction == "inbound" and status in FINAL_STATUSES and call.answered_at is None:
        return inbound.mark_missed(call)  # the <Dial action> that says "missed" never reached us
    log.info("reconcile: call %s is %s at Twilio (we had %s)", call.id, status, call.status)
    apply_status_callback(StatusUpdate(sid=call.sid, status=status, sequence="reconcile",
                                       duration=None if duration is None else str(duration),
                                       raw={"CallSid": call.sid, "CallStatus": status, "Source": "reconcile"}))
    after = Call.get_by_id(call.id)
    return (after.status, after.updated_at) != before
