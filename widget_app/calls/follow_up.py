"""After a missed call: a callback that connects closes the caller's open follow-ups (their HubSpot tasks)."""
import logging

from widget_app.hubspot import engagements
from widget_app.models import Call

log = logging.getLogger(__name__)
MISSED = ("no-answer", "busy", "failed", "canceled")


def called_back(call: Call):
    """An answered business call to a contact marks their earlier missed calls called back, once each, and
    queues the change (the task's completion) through the outbox, in the caller's transaction."""
    if call.direction != "outbound" or call.answered_at is None:
        return
    missed = Call.select().where(Call.direction == "inbound", Call.from_number == call.to_number,
                                 Call.answered_at.is_null(), Call.status.in_(MISSED),
                                 Call.called_back_at.is_null(), Call.started_at <= call.answered_at)
    for earlier in missed:
        first = (Call.update(called_back_at=call.answered_at)
                 .where((Call.id == earlier.id) & Call.called_back_at.is_null()).execute())
        if first:
            earlier.called_back_at = call.answered_at
            engagements.enqueue_call_sync(earlier)
            log.info("call %s called back missed call %s", call.id, earlier.id)
