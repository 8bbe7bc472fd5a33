"""Business hours of a WhatsApp number: a weekly schedule in its time zone (DST by zoneinfo) and closed dates.

Pure: no Flask, no database. A schedule is ``{"mon": [["09:00", "18:00"]], ...}``; an interval ends
before its end minute (18:00 is closed). Intervals may not cross midnight: write two.
"""
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PART = re.compile(r"^\s*([a-z]{3})(?:-([a-z]{3}))?\s+(\d{2}:\d{2})-(\d{2}:\d{2})\s*$")


class HoursError(ValueError):
    """A schedule, time zone or date an admin typed that we cannot use; the message says why."""


def zone(name: str) -> ZoneInfo:
    """The IANA time zone, e.g. Europe/Lisbon."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"{name!r} is not a time zone (use an IANA name such as Europe/Lisbon).") from None


def _minute(text: str) -> time:
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise HoursError(f"{text!r} is not a time of day (HH:MM).") from None


def parse_schedule(spec: str) -> dict:
    """``"mon-fri 09:00-18:00, sat 10:00-14:00"`` -> the weekly schedule; days not named are closed."""
    schedule = {}
    for part in filter(str.strip, re.split(r"[,;]", spec.lower())):
        match = PART.match(part)
        if not match or match.group(1) not in DAYS or (match.group(2) and match.group(2) not in DAYS):
            raise HoursError(f"{part.strip()!r} is not like 'mon-fri 09:00-18:00'.")
        first, last = DAYS.index(match.group(1)), DAYS.index(match.group(2) or match.group(1))
        opens, closes = _minute(match.group(3)), _minute(match.group(4))
        if last < first or closes <= opens:
            raise HoursError(f"{part.strip()!r}: days and times must run forwards (no overnight intervals).")
        for day in DAYS[first:last + 1]:
            schedule.setdefault(day, []).append([match.group(3), match.group(4)])
    if not schedule:
        raise HoursError("The schedule is empty.")
    return {day: sorted(spans) for day, spans in schedule.items()}


def parse_date(text: str) -> str:
    """A closed date as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise HoursError(f"{text!r} is not a date (YYYY-MM-DD).") from None


def is_open(schedule: dict | None, tz: str | None, closed_dates, at: datetime) -> bool:
    """Is the number open at this (aware) moment? No schedule means always open."""
    if not schedule or not tz:
        return True
    local = at.astimezone(zone(tz))
    if local.date().isoformat() in set(closed_dates or ()):
        return False
    now = local.strftime("%H:%M")
    return any(opens <= now < closes for opens, closes in schedule.get(DAYS[local.weekday()], ()))


def next_opening(schedule: dict | None, tz: str | None, closed_dates, at: datetime) -> datetime | None:
    """When it next opens (local time), looking two weeks ahead; None when always open or never."""
    if not schedule or not tz:
        return None
    local = at.astimezone(zone(tz))
    for offset in range(15):
        day = local.date() + timedelta(days=offset)
        if day.isoformat() in set(closed_dates or ()):
            continue
        for opens, _closes in schedule.get(DAYS[day.weekday()], ()):
            start = datetime.combine(day, _minute(opens), tzinfo=zone(tz))
            if start > local:
                return start
    return None
