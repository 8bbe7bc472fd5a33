"""Business hours as pure rules: the schedule an admin types, time zones with DST, closed dates."""
from datetime import UTC, datetime

import pytest

from widget_app.core.hours import HoursError, is_open, next_opening, parse_schedule

WEEKDAYS = parse_schedule("mon-fri 09:00-18:00")


def test_a_schedule_names_each_day_with_its_intervals():
    assert parse_schedule("mon-wed 09:00-12:00, mon 13:00-17:00; sat 10:00-14:00") == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]], "tue": [["09:00", "12:00"]], "wed": [["09:00", "12:00"]],
        "sat": [["10:00", "14:00"]]}


@pytest.mark.parametrize("spec", ["", "mon-fri", "fri-mon 09:00-18:00", "mon 18:00-09:00", "xyz 09:00-10:00",
                                  "mon 25:00-26:00"])
def test_an_unusable_schedule_is_refused(spec):
    with pytest.raises(HoursError):
        parse_schedule(spec)


@pytest.mark.parametrize("moment, expected", [
    (datetime(2026, 3, 23, 8, 30, tzinfo=UTC), False),  # Monday 08:30 in Lisbon (winter, UTC+0)
    (datetime(2026, 3, 30, 8, 30, tzinfo=UTC), True),  # Monday 09:30 in Lisbon (summer time, UTC+1)
    (datetime(2026, 3, 30, 17, 0, tzinfo=UTC), False),  # 18:00 local: closing time is closed
    (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), False),  # Saturday
])
def test_opening_hours_follow_the_numbers_time_zone_across_dst(moment, expected):
    assert is_open(WEEKDAYS, "Europe/Lisbon", [], moment) is expected


def test_a_closed_date_is_closed_all_day_in_the_numbers_time_zone():
    christmas_morning = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)
    assert is_open(WEEKDAYS, "America/New_York", ["2026-12-25"], christmas_morning) is False
    # 2026-12-26 01:00 UTC is still the 25th (20:00) in New York, the 26th in UTC
    assert is_open(parse_schedule("sat 19:00-21:00, fri 19:00-21:00"), "America/New_York", ["2026-12-26"],
                   datetime(2026, 12, 26, 1, 0, tzinfo=UTC)) is True


def test_no_schedule_means_always_open():
    assert is_open(None, None, [], datetime(2026, 1, 1, 3, 0, tzinfo=UTC)) is True


def test_the_next_opening_skips_closed_dates_and_weekends():
    friday_evening = datetime(2026, 12, 18, 19, 0, tzinfo=UTC)
    opening = next_opening(WEEKDAYS, "Europe/Lisbon", ["2026-12-21"], friday_evening)
    assert opening.strftime("%a %Y-%m-%d %H:%M") == "Tue 2026-12-22 09:00"
