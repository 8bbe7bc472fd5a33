"""Status callbacks that race: a call's status never moves backwards and a final status is never
replaced, on SQLite and on PostgreSQL, with real concurrent requests against a served app."""
from tests.helpers import CONTACT_PHONE
from tests.races.conftest import STAGGER_SECONDS, placed_call, post_signed, post_together, status_form, stored
from widget_app.models import Permission, db


def test_answered_and_completed_arriving_together_end_completed(served, slow_database):
    app, address, agent = served
    call = placed_call(agent)
    assert post_signed(address, "/twilio/voice/status", status_form("ringing", 1)) == 204
    # Twilio's "completed" overtakes "in-progress"; both reach us while the first is still being written
    answers = post_together(address, "/twilio/voice/status",
                            [status_form("completed", 3, CallDuration="30"), status_form("in-progress", 2)],
                            stagger=STAGGER_SECONDS)
    assert answers == [204, 204]
    done = stored(call)
    assert (done.status, done.duration_seconds) == ("completed", 30)
    assert done.answered_at is not None and done.ended_at is not None


def test_two_different_final_statuses_together_keep_the_first_whole(served, slow_database):
    app, address, agent = served
    call = placed_call(agent)
    post_signed(address, "/twilio/voice/status", status_form("in-progress", 2))
    post_together(address, "/twilio/voice/status",
                  [status_form("completed", 3, CallDuration="30"), status_form("canceled", 4, CallDuration="0")],
                  stagger=STAGGER_SECONDS)
    done = stored(call)
    assert (done.status, done.duration_seconds) == ("completed", 30)
    assert done.answered_at is not None


def test_two_concurrent_duplicate_final_callbacks_count_one_miss(served, slow_database):
    app, address, agent = served
    placed_call(agent)
    post_together(address, "/twilio/voice/status", [status_form("no-answer", 2, CallDuration="0")] * 2)
    with db.connection_context():
        assert Permission.get(Permission.phone == CONTACT_PHONE).consecutive_missed == 1


def test_a_second_final_status_never_replaces_the_first(served):
    app, address, agent = served
    call = placed_call(agent)
    post_signed(address, "/twilio/voice/status", status_form("in-progress", 2))
    post_signed(address, "/twilio/voice/status", status_form("completed", 3, CallDuration="30"))
    post_signed(address, "/twilio/voice/status", status_form("canceled", 4, CallDuration="0"))
    post_signed(address, "/twilio/voice/status", status_form("failed", 5, ErrorCode="31005"))
    done = stored(call)
    assert (done.status, done.duration_seconds, done.error_code) == ("completed", 30, None)
