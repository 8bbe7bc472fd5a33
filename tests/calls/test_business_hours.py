"""Business hours per WhatsApp number: the same inbound webhook rings agents when open and, after hours
or on a holiday, speaks AFTER_HOURS_MESSAGE and records a missed call without ringing anyone."""
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from tests.calls.helpers import (
    HOLIDAY_10_LISBON,
    MONDAY_0830_UTC_SUMMER,
    MONDAY_0830_UTC_WINTER,
    MONDAY_10_LISBON_SUMMER,
    MONDAY_20_LISBON_SUMMER,
    SENDER,
)
from widget_app.models import Call, CallRing, PhoneNumber


def rang(twiml) -> bool:
    return any(True for _ in twiml.iter("Client"))


@pytest.mark.parametrize("moment, open_", [
    (MONDAY_10_LISBON_SUMMER, True), (MONDAY_20_LISBON_SUMMER, False), (HOLIDAY_10_LISBON, False),
    (MONDAY_0830_UTC_WINTER, False), (MONDAY_0830_UTC_SUMMER, True),
])
def test_the_inbound_webhook_rings_only_inside_the_numbers_hours(app, lisbon_hours, calls_in, moment, open_):
    twiml = calls_in(moment)
    call = Call.get()
    assert rang(twiml) is open_
    if open_:
        assert call.status == "ringing" and CallRing.select().count() == 1
    else:
        assert twiml.findtext("Say") == app.config["AFTER_HOURS_MESSAGE"]
        assert call.status == "no-answer" and CallRing.select().count() == 0


def test_the_after_hours_message_is_configurable(app, lisbon_hours, calls_in):
    app.config["AFTER_HOURS_MESSAGE"] = "We open at nine."
    assert calls_in(MONDAY_20_LISBON_SUMMER).findtext("Say") == "We open at nine."


def test_a_number_without_hours_always_rings(app, db, calls_in):
    assert rang(calls_in(MONDAY_20_LISBON_SUMMER))


def test_the_numbers_api_says_closed_now_and_when_it_opens(client, lisbon_hours, agent, headers_for):
    with freeze_time(datetime(2026, 6, 5, 19, 0, tzinfo=UTC)):  # Friday 20:00 in Lisbon
        numbers = client.get("/api/numbers", headers=headers_for(agent)).json["numbers"]
    assert (numbers[0]["closed_now"], numbers[0]["opens"]) == (True, "Mon 09:00")


def test_hours_for_the_configured_sender_keep_it_the_default(lisbon_hours):
    row = PhoneNumber.get(PhoneNumber.e164 == SENDER)
    assert row.is_default and row.time_zone == "Europe/Lisbon" and row.closed_dates == ["2026-06-10"]


@pytest.mark.parametrize("args, hint", [
    (["hours", "--number", SENDER, "--tz", "Mars/Olympus", "--set", "mon 09:00-10:00"], "time zone"),
    (["hours", "--number", SENDER, "--tz", "Europe/Lisbon", "--set", "weekdays"], "not like"),
    (["hours", "--number", "+34911234567", "--tz", "Europe/Madrid", "--set", "mon 09:00-10:00"], "add it first"),
    (["closed", "--number", SENDER, "--date", "25/12/2026"], "not a date"),
])
def test_unusable_hours_are_refused_with_the_reason(runner, db, args, hint):
    result = runner.invoke(args=["numbers", *args])
    assert result.exit_code == 2 and hint in result.output
    assert PhoneNumber.select().where(PhoneNumber.time_zone.is_null(False)).count() == 0
