"""`flask numbers add|list`: our WhatsApp senders (the keypad's "from" picker)."""
import click
from flask.cli import AppGroup

from widget_app.calls.senders import add_sender, all_senders
from widget_app.core.calling_countries import outbound_warning
from widget_app.core.errors import DomainError
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
