"""The WhatsApp numbers section's services, over the ones `flask numbers` uses (calls.senders, calls.hours):
our senders with their hours, closed dates and whether Meta lets them call out."""
from widget_app.admin.insights import ZONE_NAME
from widget_app.calls import hours as business_hours
from widget_app.calls.senders import add_sender, all_senders
from widget_app.core.errors import DomainError
from widget_app.core.hours import DAYS, HoursError
from widget_app.core.phone import to_e164
from widget_app.models import PhoneNumber


def numbers() -> list[dict]:
    """Every sender (the default first) with its schedule as typed, time zone and closed dates."""
    rows = {row.e164: row for row in PhoneNumber.select()}
    senders = all_senders()
    for sender in senders:
        row = rows.get(sender["e164"])
        sender["time_zone"] = row.time_zone if row else None
        sender["hours_text"] = schedule_text(row.hours) if row and row.hours else ""
        sender["closed_dates"] = (row.closed_dates or []) if row else []
    return senders


def schedule_text(schedule: dict) -> str:
    """The stored schedule as `flask numbers hours --set` takes it: "mon 09:00-18:00, sat 10:00-14:00"."""
    return ", ".join(f"{day} {start}-{end}" for day in DAYS
                     for start, end in schedule.get(day, []))


def _ours(number: str) -> str:
    e164 = to_e164(number)
    if e164 not in {sender["e164"] for sender in all_senders()}:
        raise DomainError("invalid_sender", f"{e164} is not one of our WhatsApp senders; add it first.")
    return e164


def _hours_refused(exc: HoursError, field: str) -> DomainError:
    return DomainError("invalid_field", str(exc), field=field)


def add(number: str, name: str, default: bool) -> PhoneNumber:
    """Add (or rename) a sender, as `flask numbers add`."""
    e164, name = to_e164(number), name.strip()
    if not name or len(name) > 255:
        raise DomainError("invalid_field", "The name must be 1 to 255 characters.", field="name")
    return add_sender(e164, name, default)[0]


def make_default(number: str) -> PhoneNumber:
    """The sender used when an agent picks none; the others stop being the default."""
    e164 = _ours(number)
    row = PhoneNumber.get_or_none(PhoneNumber.e164 == e164)
    return add_sender(e164, row.friendly_name if row else "Default sender", True)[0]


def set_hours(number: str, tz: str, spec: str) -> PhoneNumber:
    tz = tz.strip()
    if len(tz) > 64 or not ZONE_NAME.match(tz):
        raise DomainError("invalid_field", "The time zone must be an IANA name such as Europe/Lisbon.", field="tz")
    try:
        return business_hours.set_hours(_ours(number), tz, spec)
    except HoursError as exc:
        raise _hours_refused(exc, "hours") from None


def add_closed_date(number: str, day: str) -> PhoneNumber:
    try:
        return business_hours.add_closed_date(_ours(number), day.strip())
    except HoursError as exc:
        raise _hours_refused(exc, "date") from None
