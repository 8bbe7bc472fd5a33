"""Our WhatsApp senders: the `PhoneNumber` table plus TWILIO_WHATSAPP_NUMBER."""
from flask import current_app

from widget_app.core.errors import DomainError
from widget_app.core.phone import to_e164
from widget_app.models import PhoneNumber, db


def all_senders() -> list[dict]:
    """Every number we may call from, the default first; the configured sender is always one."""
    rows = [row.to_dict() for row in PhoneNumber.select().order_by(PhoneNumber.is_default.desc(),
                                                                   PhoneNumber.friendly_name)]
    configured = current_app.config.get("TWILIO_WHATSAPP_NUMBER")
    if configured and not any(row["e164"] == configured for row in rows):
        rows.append({"e164": configured, "friendly_name": "Default sender",
                     "is_default": not any(row["is_default"] for row in rows)})
    return sorted(rows, key=lambda row: not row["is_default"])


def resolve_sender(requested: str | None) -> str:
    """The sender a call goes out from: the one asked for (if it is ours) or the default."""
    senders = all_senders()
    if not senders:
        raise DomainError("no_sender", "No WhatsApp sender is configured; add one with `flask numbers add`.")
    if requested is None or requested == "":
        return senders[0]["e164"]
    try:
        e164 = to_e164(requested)
    except DomainError:
        raise DomainError("invalid_sender", f"{requested!r} is not a phone number.", field="from") from None
    if e164 not in {row["e164"] for row in senders}:
        raise DomainError("invalid_sender", f"{e164} is not one of our WhatsApp senders.", field="from")
    return e164


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
