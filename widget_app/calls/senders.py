"""Our WhatsApp senders: the `PhoneNumber` table plus TWILIO_WHATSAPP_NUMBER."""
import logging

from flask import current_app
from peewee import PeeweeException

from widget_app.calls import hours as business_hours
from widget_app.core.calling_countries import outbound_warning
from widget_app.core.errors import DomainError
from widget_app.core.phone import to_e164
from widget_app.models import PhoneNumber, db

log = logging.getLogger(__name__)


def all_senders() -> list[dict]:
    """Every number we may call from, the default first; the configured sender is always one."""
    stored = list(PhoneNumber.select().order_by(PhoneNumber.is_default.desc(), PhoneNumber.friendly_name))
    # "Closed now, opens Mon 09:00", from the rows in hand
    rows = [{**number.to_dict(), **business_hours.status_json(number)} for number in stored]
    configured = current_app.config.get("TWILIO_WHATSAPP_NUMBER")
    if configured and not any(row["e164"] == configured for row in rows):
        rows.append({"e164": configured, "friendly_name": "Default sender",
                     "is_default": not any(row["is_default"] for row in rows), **business_hours.status_json(None)})
    for row in rows:
        row["no_outbound_reason"] = outbound_warning(row["e164"])
        row["can_call_out"] = row["no_outbound_reason"] is None
    return sorted(rows, key=lambda row: not row["is_default"])


def resolve_sender(requested: str | None) -> str:
    """The sender a call goes out from: the one asked for (if it is ours) or the default."""
    senders = all_senders()
    if not senders:
        raise DomainError("no_sender", "No WhatsApp sender is configured; add one with `flask numbers add`.")
    if requested is None or requested == "":
        usable = [row for row in senders if row["can_call_out"]]
        if not usable:
            raise DomainError("sender_cannot_call_out", senders[0]["no_outbound_reason"], field="from")
        return usable[0]["e164"]
    try:
        e164 = to_e164(requested)
    except DomainError:
        raise DomainError("invalid_sender", f"{requested!r} is not a phone number.", field="from") from None
    if e164 not in {row["e164"] for row in senders}:
        raise DomainError("invalid_sender", f"{e164} is not one of our WhatsApp senders.", field="from")
    if outbound_warning(e164):
        raise DomainError("sender_cannot_call_out", outbound_warning(e164), field="from")
    return e164


def warn_senders_that_cannot_call_out(app):
    """At start-up: log every sender Meta will not let call out (the configured one, then the stored ones)."""
    with app.app_context():
        try:
            with db.connection_context():
                senders = all_senders()
        except PeeweeException:  # before `flask db upgrade`: only the configured sender is known
            configured = app.config.get("TWILIO_WHATSAPP_NUMBER")
            senders = [{"e164": configured, "no_outbound_reason": outbound_warning(configured)}] if configured else []
    for row in senders:
        if row["no_outbound_reason"]:
            log.warning("sender %s: %s", row["e164"], row["no_outbound_reason"])


def add_sender(e164: str, name: str, default: bool = False) -> tuple[PhoneNumber, bool]:
    """Create or rename a sender; making one the default unmarks the others. Returns (row, created)."""
    with db.atomic():
        row = PhoneNumber.get_or_none(PhoneNumber.e164 == e164)
        created = row is None
        if created:
            row = PhoneNumber(e164=e164)
        row.friendly_name = name
        if default:
            PhoneNumber.update(is_default=False).where(PhoneNumber.e164 != e164).execute()
            row.is_default = True
        row.save()
    return row, created
