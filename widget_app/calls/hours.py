"""Business hours and holidays per WhatsApp number: when an inbound call rings agents, and what agents see."""
from datetime import datetime

from flask import current_app

from widget_app.core import hours
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.models import Call, PhoneNumber, db


def _number(e164: str) -> PhoneNumber | None:
    return PhoneNumber.get_or_none(PhoneNumber.e164 == e164)


def closed_at(e164: str, at: datetime) -> bool:
    """Is our number outside its business hours (or on a closed date) at this moment?"""
    row = _number(e164)
    return row is not None and not hours.is_open(row.hours, row.time_zone, row.closed_dates, at)


def caller_message(call: Call) -> str | None:
    """What a caller hears when the call came in after hours (judged at its start, so a retry says the same)."""
    if call.direction == "inbound" and closed_at(call.to_number, call.started_at):
        return current_app.config["AFTER_HOURS_MESSAGE"]
    return None


def _sender_row(e164: str) -> PhoneNumber:
    """Our sender's row; the configured sender gets one the first time its hours are set."""
    row = _number(e164)
    if row is None:
        if e164 != current_app.config.get("TWILIO_WHATSAPP_NUMBER"):
            raise DomainError("invalid_sender", f"{e164} is not one of our WhatsApp senders; add it first.")
        default = not PhoneNumber.select().where(PhoneNumber.is_default == True).exists()
        row = PhoneNumber.create(e164=e164, friendly_name="Default sender", is_default=default)
    return row


def set_hours(e164: str, tz: str, spec: str) -> PhoneNumber:
    """Store the weekly schedule in its time zone (raises HoursError on anything unusable)."""
    hours.zone(tz)
    schedule = hours.parse_schedule(spec)
    with db.atomic():
        row = _sender_row(e164)
        row.time_zone, row.hours = tz, schedule
        row.save()
    return row


def add_closed_date(e164: str, day: str) -> PhoneNumber:
    """A holiday: closed all day in the number's time zone."""
    day = hours.parse_date(day)
    with db.atomic():
        row = _sender_row(e164)
        row.closed_dates = sorted(set(row.closed_dates or []) | {day})
        row.save()
    return row


def status_json(row: PhoneNumber | None, at: datetime | None = None) -> dict:
    """For the widget, from the number's row in hand (None: a sender without a row, always open): ``closed_now``
    and when it opens, as "Mon 09:00" in the number's time zone."""
    at = at or utcnow()
    if row is None or not row.hours:
        return {"closed_now": False, "opens": None}
    if hours.is_open(row.hours, row.time_zone, row.closed_dates, at):
        return {"closed_now": False, "opens": None}
    opening = hours.next_opening(row.hours, row.time_zone, row.closed_dates, at)
    return {"closed_now": True, "opens": opening.strftime("%a %H:%M") if opening else None}
