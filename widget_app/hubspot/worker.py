"""Who drains the outbox: `flask sync run [--once]`, and a thread in each web process (SYNC_WORKER)."""
import logging
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from widget_app.hubspot.engagements import drain

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
sync_cli = AppGroup("sync", help="The HubSpot outbox.")


def run_forever(app, stop: threading.Event, poll: float = POLL_SECONDS):
    """Drain, sleep, repeat until ``stop`` is set; an error is logged and the loop goes on."""
    while not stop.is_set():
        try:
            drain(app)
        except Exception:
            log.exception("outbox pass failed")
        stop.wait(poll)


def start_thread(app) -> threading.Thread:
    """One daemon worker thread per app in this process (leases keep several processes apart)."""
    with app.extensions.setdefault("hubspot_sync_lock", threading.Lock()):
        thread = app.extensions.get("hubspot_sync_thread")
        if thread is None or not thread.is_alive():
            stop = threading.Event()
            thread = threading.Thread(target=run_forever, args=(app, stop), name="hubspot-sync", daemon=True)
            app.extensions["hubspot_sync_stop"] = stop
            app.extensions["hubspot_sync_thread"] = thread
            thread.start()
            log.info("HubSpot outbox worker started")
    return thread


@sync_cli.command("run")
@click.option("--once", is_flag=True, help="Write what is due now, then exit.")
def run_command(once):
    """Write queued calls to HubSpot (runs until stopped, or once with --once)."""
    app = current_app._get_current_object()
    if once:
        click.echo(f"Attempted {drain(app)} HubSpot write(s).")
        return
    click.echo("Writing queued calls to HubSpot; Ctrl+C stops.")
    try:
        run_forever(app, threading.Event())
    except KeyboardInterrupt:
        click.echo("Stopped.")


def init_app(app):
    """Register `flask sync`; serving requests starts the worker thread (never under TESTING or the CLI)."""
    app.cli.add_command(sync_cli)
    if not app.config.get("SYNC_WORKER") or app.config.get("TESTING"):
        return

    @app.before_request
    def _start_sync_worker():
        if "hubspot_sync_thread" not in app.extensions:
            start_thread(app)
