"""Our WhatsApp senders: the `PhoneNumber` table plus TWILIO_WHATSAPP_NUMBER, and `flask numbers`."""
import click
from flask import current_app
from flask.cli import AppGroup

from widget_app.web.errors import ApiError
from widget_app.models import PhoneNumber, db
from widget_app.core.phone import to_e164

numbers_cli = AppGroup("numbers", help="Our WhatsApp senders (the keypad's \"from\" picker).")


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
        raise ApiError(409, "no_sender", "No WhatsApp sender is configured; add one with `flask numbers add`.")
    if requested is None or requested == "":
        return senders[0]["e164"]
    try:
        e164 = to_e164(requested)
    except ApiError:
        raise ApiError(400, "invalid_sender", f"{requested!r} is not a phone number.", field="from") from None
    if e164 not in {row["e164"] for row in senders}:
        raise ApiError(400, "invalid_sender", f"{e164} is not one of our WhatsApp senders.", field="from")
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


@numbers_cli.command("add")
@click.option("--e164", "number", required=True, help="The sender in E.164, e.g. +447700900000.")
@click.option("--name", required=True, help="A friendly name agents see in the picker.")
@click.option("--default", "make_default", is_flag=True, help="Make it the sender used when none is chosen.")
def add_command(number, name, make_default):
    """Add (or rename) a WhatsApp sender."""
    try:
        e164 = to_e164(number)
    except ApiError as exc:
        raise click.BadParameter(exc.message, param_hint="--e164") from None
    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="--name")
    with db.connection_context():
        row, created = add_sender(e164, name.strip(), make_default)
    click.echo(f"{'Added' if created else 'Updated'} {row.e164} ({row.friendly_name})"
               f"{' as the default sender' if row.is_default else ''}.")


@numbers_cli.command("list")
def list_command():
    """List our WhatsApp senders, the default marked with *."""
    with db.connection_context():
        senders = all_senders()
    if not senders:
        click.echo("No senders. Add one with `flask numbers add --e164 +… --name …`.")
    for row in senders:
        click.echo(f"{'*' if row['is_default'] else ' '} {row['e164']}  {row['friendly_name']}")
