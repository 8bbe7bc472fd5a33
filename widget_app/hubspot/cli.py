"""`flask hubspot settings|channel-connection|recording-settings …`: register the app with HubSpot
(CONTRACT §7). These are developer-account settings, called with `?hapikey=` (reference §5)."""
import click
from flask import current_app
from flask.cli import AppGroup

from widget_app.hubspot.extension import ExtensionSettingsError, request_settings

hubspot_cli = AppGroup("hubspot", help="Register the calling extension with HubSpot (developer API key).")
settings_cli = AppGroup("settings", help="Calling-extension settings: name, widget URL, size, flags.")
channel_cli = AppGroup("channel-connection", help="The help desk channel-connection webhook.")
recording_cli = AppGroup("recording-settings", help="Where HubSpot fetches authenticated recordings.")
for _group in (settings_cli, channel_cli, recording_cli):
    hubspot_cli.add_command(_group)

# Calling-extension fields: option name -> (HubSpot field, default for `create`).
FLAGS = {"ready": ("isReady", False), "custom_objects": ("supportsCustomObjects", False),
         "inbound": ("supportsInboundCalling", True), "calling_window": ("usesCallingWindow", True),
         "remote": ("usesRemote", True)}


def _public_url(path: str) -> str:
    """PUBLIC_BASE_URL + path: the https address HubSpot will call."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base:
        raise click.ClickException("PUBLIC_BASE_URL is not set: it is the https origin HubSpot reaches "
                                   "(or pass --url).")
    return base.rstrip("/") + path


def call_hubspot(method: str, part: str, body: dict | None = None) -> dict | None:
    """One settings request; HubSpot's own error message is shown as it is, exit code 1."""
    try:
        return request_settings(method, part, body)
    except ExtensionSettingsError as exc:
        raise click.ClickException(str(exc)) from None


def show(data: dict | None, done: str):
    """Readable output: one `key: value` line per field, booleans as true/false."""
    if not data:
        click.echo(done)
        return
    for key, value in data.items():
        click.echo(f"{key}: {str(value).lower() if isinstance(value, bool) else value}")


def settings_options(creating: bool):
    """The nine calling-extension fields as options; `update` sends only those given."""
    def decorate(command):
        flags = [("ready", "--ready/--not-ready", "production-ready (keep off while testing)"),
                 ("custom_objects", "--custom-objects/--no-custom-objects", "click-to-dial on custom objects"),
                 ("inbound", "--inbound/--no-inbound", "supports inbound calling"),
                 ("calling_window", "--calling-window/--no-calling-window", "uses HubSpot's calling window"),
                 ("remote", "--remote/--no-remote", "uses the calling remote")]
        for name, decls, help_text in reversed(flags):
            default = FLAGS[name][1] if creating else None
            command = click.option(decls, name, default=default, help=help_text,
                                   show_default=creating)(command)
        command = click.option("--height", type=click.IntRange(1), default=600 if creating else None,
                               show_default=creating)(command)
        command = click.option("--width", type=click.IntRange(1), default=400 if creating else None,
                               show_default=creating)(command)
        command = click.option("--url", help="Widget iframe URL [default: PUBLIC_BASE_URL/widget]")(command)
        return click.option("--name", default="WhatsApp Calls" if creating else None,
                            show_default=creating, help="Name shown to HubSpot users")(command)
    return decorate


def settings_body(options: dict, creating: bool) -> dict:
    """The JSON HubSpot takes, from the command's options."""
    body = {"name": options["name"], "url": options["url"],
            "width": options["width"], "height": options["height"],
            **{field: options[name] for name, (field, _) in FLAGS.items()}}
    if creating and not body["url"]:
        body["url"] = _public_url("/widget")
    body = {key: value for key, value in body.items() if value is not None}
    if not body:
        raise click.UsageError("Nothing to update: pass at least one option.")
    return body


@settings_cli.command("get")
def settings_get():
    """Show the app's calling-extension settings."""
    show(call_hubspot("GET", ""), "No settings.")


@settings_cli.command("create")
@settings_options(creating=True)
def settings_create(**options):
    """Register the widget with all nine fields (isReady stays false until --ready)."""
    show(call_hubspot("POST", "", settings_body(options, creating=True)), "Created.")


@settings_cli.command("update")
@settings_options(creating=False)
def settings_update(**options):
    """Change only the fields given, e.g. `--ready` once testing is done."""
    show(call_hubspot("PATCH", "", settings_body(options, creating=False)), "Updated.")


@settings_cli.command("delete")
def settings_delete():
    """Remove the calling-extension settings (the widget disappears from HubSpot)."""
    show(call_hubspot("DELETE", ""), "Deleted the calling-extension settings.")


@channel_cli.command("get")
def channel_get():
    """Show the help desk channel-connection webhook."""
    show(call_hubspot("GET", "channel-connection"), "No channel-connection settings.")


@channel_cli.command("create")
@click.option("--url", help="Webhook URL [default: PUBLIC_BASE_URL/hubspot/channel-connection]")
@click.option("--ready/--not-ready", default=False, show_default=True, help="offer it to every user")
def channel_create(url, ready):
    """Register our channel-connection webhook with HubSpot."""
    body = {"url": url or _public_url("/hubspot/channel-connection"), "isReady": ready}
    show(call_hubspot("POST", "channel-connection", body), "Created.")


@channel_cli.command("update")
@click.option("--url", help="Webhook URL")
@click.option("--ready/--not-ready", default=None, help="offer it to every user")
def channel_update(url, ready):
    """Change the webhook URL and/or isReady."""
    body = {key: value for key, value in {"url": url, "isReady": ready}.items() if value is not None}
    if not body:
        raise click.UsageError("Nothing to update: pass --url or --ready/--not-ready.")
    show(call_hubspot("PATCH", "channel-connection", body), "Updated.")


@channel_cli.command("delete")
def channel_delete():
    """Remove the channel-connection webhook."""
    show(call_hubspot("DELETE", "channel-connection"), "Deleted the channel-connection settings.")


def recording_body(url: str | None) -> dict:
    """HubSpot replaces %s with the engagement's hs_call_external_id; it takes only https URLs."""
    url = url or _public_url("/hubspot/recordings/%s")
    if "%s" not in url or not url.startswith("https://"):
        raise click.UsageError(f"The recording URL must be https:// and contain %s, got {url!r}.")
    return {"urlToRetrieveAuthedRecording": url}


@recording_cli.command("get")
def recording_get():
    """Show where HubSpot fetches authenticated recordings."""
    show(call_hubspot("GET", "recording"), "No recording settings.")


@recording_cli.command("create")
@click.option("--url", help="[default: PUBLIC_BASE_URL/hubspot/recordings/%s]")
def recording_create(url):
    """Register our authenticated-recording endpoint."""
    show(call_hubspot("POST", "recording", recording_body(url)), "Created.")


@recording_cli.command("update")
@click.option("--url", help="[default: PUBLIC_BASE_URL/hubspot/recordings/%s]")
def recording_update(url):
    """Point HubSpot at a new recording endpoint (e.g. after moving host)."""
    show(call_hubspot("PATCH", "recording", recording_body(url)), "Updated.")


def init_app(app):
    """Register `flask hubspot …`."""
    app.cli.add_command(hubspot_cli)
