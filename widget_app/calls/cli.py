"""`flask numbers add|list|hours|closed`: our WhatsApp senders (the keypad's "from" picker) and their hours."""
import click
from flask.cli import AppGroup

from widget_app.calls import hours as business_hours
from widget_app.calls.senders import add_sender, all_senders
from widget_app.core.calling_countries import outbound_warning
from widget_app.core.errors import DomainError
from widget_app.core.hours import HoursError
from widget_app.core.phone import to_e164
from widget_app.models import db

numbers_cli = AppGroup("numbers", help="Our WhatsApp senders (the keypad's \"from\" picker).")


@numbers_cli.command("add")
@click.option("--e164", "number", required=True, help="The sender in E.164, e.g. +447700900000.")
@click.option("--name", required=True, help="A friendly name agents see in the picker.")
@click.option("--default", "make_default", is_flag=True, help="Make it the sender used when none is chosen.")
def add_command(number, name, make_default):
    """Add (or rename) a WhatsApp sender."""
    try:
        e164 = to_e164(number)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--e164") from None
    if not name.strip():
        raise click.BadParameter("must not be empty", param_hint="--name")
    with db.connection_context():
        row, created = add_sender(e164, name.strip(), make_default)
    click.echo(f"{'Added' if created else 'Updated'} {row.e164} ({row.friendly_name})"
               f"{' as the default sender' if row.is_default else ''}.")
    if outbound_warning(e164):
        click.echo(f"Warning: {outbound_warning(e164)}", err=True)


@numbers_cli.command("list")
def list_command():
    """List our WhatsApp senders, the default marked with *."""
    with db.connection_context():
        senders = all_senders()
    if not senders:
        click.echo("No senders. Add one with `flask numbers add --e164 +… --name …`.")
    for row in senders:
        click.echo(f"{'*' if row['is_default'] else ' '} {row['e164']}  {row['friendly_name']}")


def _our_number(number: str) -> str:
    try:
        return to_e164(number)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--number") from None


@numbers_cli.command("hours")
@click.option("--number", required=True, help="Our WhatsApp sender in E.164.")
@click.option("--tz", required=True, help="IANA time zone of the hours, e.g. Europe/Lisbon (DST included).")
@click.option("--set", "spec", required=True, help='Opening hours, e.g. "mon-fri 09:00-18:00, sat 10:00-14:00".')
def hours_command(number, tz, spec):
    """Set a sender's business hours: outside them inbound calls hear AFTER_HOURS_MESSAGE instead of ringing."""
    e164 = _our_number(number)
    try:
        with db.connection_context():
            row = business_hours.set_hours(e164, tz, spec)
    except (HoursError, DomainError) as exc:
        raise click.BadParameter(getattr(exc, "message", None) or str(exc), param_hint="--tz/--set") from None
    days = ", ".join(f"{day} {' '.join('-'.join(span) for span in spans)}" for day, spans in row.hours.items())
    click.echo(f"{row.e164} is open {days} ({row.time_zone}).")


@numbers_cli.command("closed")
@click.option("--number", required=True, help="Our WhatsApp sender in E.164.")
@click.option("--date", "day", required=True, help="A closed day (holiday), YYYY-MM-DD, in the number's time zone.")
def closed_command(number, day):
    """Close a sender for a whole day: inbound calls hear AFTER_HOURS_MESSAGE instead of ringing."""
    e164 = _our_number(number)
    try:
        with db.connection_context():
            row = business_hours.add_closed_date(e164, day)
    except (HoursError, DomainError) as exc:
        raise click.BadParameter(getattr(exc, "message", None) or str(exc), param_hint="--date") from None
    click.echo(f"{row.e164} is closed on {', '.join(row.closed_dates)}.")
