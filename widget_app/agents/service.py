"""Agents: creating them (CLI, demo), and `flask agents create|list|disable|enable` (CONTRACT §7)."""
import click
from flask.cli import AppGroup
from peewee import fn
from werkzeug.security import generate_password_hash

from widget_app.models import Agent, db

agents_cli = AppGroup("agents", help="Create, list and disable the people who sign in to the widget.")
MIN_PASSWORD_LENGTH = 8  # the CLI's rule; the demo agent's password is "demo"
DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD = "demo@example.com", "Demo Agent", "demo"


class AgentError(ValueError):
    """An agent cannot be created or changed as asked; the message says why."""


def normalise_email(email: str) -> str:
    """Emails are compared without case or surrounding spaces."""
    return email.strip().lower()


def find_agent(email: str) -> Agent | None:
    """The agent with this email, whatever its case."""
    return Agent.get_or_none(fn.LOWER(Agent.email) == normalise_email(email))


def create_agent(email: str, name: str, password: str) -> Agent:
    """Create an agent with a scrypt password hash; raises AgentError for bad or duplicate input."""
    email, name = normalise_email(email), name.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        raise AgentError(f"'{email}' is not an email address.")
    if not name or len(name) > 255:
        raise AgentError("The name must be 1 to 255 characters.")
    if not password:
        raise AgentError("The password must not be empty.")
    with db.atomic():
        if find_agent(email) is not None:
            raise AgentError(f"An agent with the email {email} already exists.")
        return Agent.create(email=email, name=name, password_hash=generate_password_hash(password))


def ensure_demo_agent() -> Agent:
    """Demo mode's agent (demo@example.com / demo), created once and re-enabled if disabled."""
    agent = find_agent(DEMO_EMAIL)
    if agent is None:
        return create_agent(DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD)
    if not agent.active:
        Agent.update(active=True).where(Agent.id == agent.id).execute()
        agent = Agent.get_by_id(agent.id)
    return agent


def _password_rule(value: str) -> str:
    """Reject short passwords at the prompt (click asks again)."""
    if len(value) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"use at least {MIN_PASSWORD_LENGTH} characters")
    return value


@agents_cli.command("create")
@click.option("--email", required=True, help="The agent's sign-in email.")
@click.option("--name", required=True, help="The name shown in the widget.")
def create_command(email, name):
    """Create an agent; the password is asked twice and never echoed."""
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=_password_rule)
    with db.connection_context():
        try:
            agent = create_agent(email, name, password)
        except AgentError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Created agent {agent.id}: {agent.name} <{agent.email}>.")


@agents_cli.command("list")
def list_command():
    """Show every agent as a table (never the password hashes)."""
    with db.connection_context():
        agents = list(Agent.select().order_by(Agent.id))
    if not agents:
        click.echo("No agents yet. Create one with: flask agents create --email E --name N")
        return
    rows = [("ID", "EMAIL", "NAME", "ACTIVE", "HUBSPOT OWNER", "CREATED")]
    rows += [(str(a.id), a.email, a.name, "yes" if a.active else "no", a.hubspot_owner_id or "-",
              a.created_at.strftime("%Y-%m-%d %H:%M UTC")) for a in agents]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _set_active(email: str, active: bool) -> Agent:
    """Enable or disable; disabling also bumps the token version, so every token and cookie dies now."""
    with db.connection_context(), db.atomic():
        agent = find_agent(email)
        if agent is None:
            raise click.ClickException(f"No agent has the email {normalise_email(email)}.")
        changes = {Agent.active: active}
        if not active:
            changes.update({Agent.available: False, Agent.token_version: Agent.token_version + 1})
        Agent.update(changes).where(Agent.id == agent.id).execute()
        return agent


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
    agent = _set_active(email, True)
    click.echo(f"Enabled {agent.email}.")
