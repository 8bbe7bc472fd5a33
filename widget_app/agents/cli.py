"""`flask agents create|list|disable|enable` (CONTRACT §7): the people who sign in to the widget."""
import click
from flask.cli import AppGroup

from widget_app.agents import limits
from widget_app.agents.accounts import (
    AgentError,
    create_agent,
    find_agent,
    normalise_email,
    set_active,
)
from widget_app.core.errors import DomainError
from widget_app.core.ids import parse_id
from widget_app.hubspot.owners import assign_owner
from widget_app.models import Agent, db

agents_cli = AppGroup("agents", help="Create, list and disable the people who sign in to the widget.")
MIN_PASSWORD_LENGTH = 8  # the CLI's rule; the demo agent's password is "demo"


def _password_rule(value: str) -> str:
    """Reject short passwords at the prompt (click asks again)."""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"use at least {MIN_PASSWORD_LENGTH} characters")
    return value


@agents_cli.command("create")
@click.option("--email", required=True, help="The agent's sign-in email.")
@click.option("--name", required=True, help="The name shown in the widget.")
@click.option("--admin", is_flag=True, help="An admin may install the app in HubSpot portals.")
def create_command(email, name, admin):
    """Create an agent (the first one is an admin); the password is asked twice and never echoed."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=_password_rule)
    with db.connection_context():
        try:
            agent = create_agent(email, name, password, admin=admin)
        except AgentError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Created {agent.role} {agent.id}: {agent.name} <{agent.email}>.")


@agents_cli.command("list")
def list_command():
    """Show every agent as a table (never the password hashes)."""
    with db.connection_context():
        agents = list(Agent.select().order_by(Agent.id))
    if not agents:
        click.echo("No agents yet. Create one with: flask agents create --email E --name N")
        return
    rows = [("ID", "EMAIL", "NAME", "ROLE", "ACTIVE", "HUBSPOT OWNER", "CREATED")]
    rows += [(str(a.id), a.email, a.name, a.role, "yes" if a.active else "no", a.hubspot_owner_id or "-",
              a.created_at.strftime("%Y-%m-%d %H:%M UTC")) for a in agents]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _set_active(email: str, active: bool) -> Agent:
    with db.connection_context():
        try:
            return set_active(email, active)
        except AgentError as exc:
            raise click.ClickException(str(exc)) from None


@agents_cli.command("disable")
@click.option("--email", required=True)
def disable_command(email):
    """Stop an agent signing in and sign them out everywhere at once."""
    agent = _set_active(email, False)
    click.echo(f"Disabled {agent.email}; their sessions are revoked.")


@agents_cli.command("enable")
@click.option("--email", required=True)
def enable_command(email):
    """Let a disabled agent sign in again (with their existing password)."""
    agent = _set_active(normalise_email(email), True)
    click.echo(f"Enabled {agent.email}.")


@agents_cli.command("set-owner")
@click.option("--email", required=True)
@click.option("--owner", required=True, help="The HubSpot owner id whose contacts' calls ring this agent.")
def set_owner_command(email, owner):
    """Link an agent to a HubSpot owner an admin vouches for (the widget then needs no confirmation from HubSpot)."""
    try:
        owner_id = parse_id(owner, "owner")
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--owner") from None
    with db.connection_context(), db.atomic():
        agent = find_agent(email)
        if agent is None:
            raise click.ClickException(f"No agent has the email {normalise_email(email)}.")
        assign_owner(agent, hubspot_owner_id=owner_id, hubspot_user_id=None)
    click.echo(f"{agent.email} now takes the inbound calls of HubSpot owner {owner_id}.")


@agents_cli.command("unlock")
@click.option("--email", required=True)
def unlock_command(email):
    """Clear an agent's failed sign-in attempts, so the limits no longer hold them back."""
    with db.connection_context():
        agent = find_agent(email)
        if agent is None:
            raise click.ClickException(f"No agent has the email {normalise_email(email)}.")
        cleared = limits.unlock(agent.email)
    click.echo(f"Unlocked {agent.email} ({cleared} failed attempts forgotten).")
