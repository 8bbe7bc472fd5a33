"""Who drains the outbox: `flask sync run [--once]`, and a thread in each web process (SYNC_WORKER).

The same loop reconciles calls that went quiet with Twilio (``calls.reconcile``) once a minute, and
consumes the insights' stale marks (``admin.insight_days``).
"""
import logging
import threading
import time

import click
from flask import current_app
from flask.cli import AppGroup

from widget_app.admin import insight_days
from widget_app.calls.reconcile import reconcile
from widget_app.extensions import db
from widget_app.hubspot.engagements import drain

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
RECONCILE_SECONDS = 60.0
sync_cli = AppGroup("sync", help="The HubSpot outbox.")


def reconcile_calls(app) -> int:
    """One reconciler pass: calls without news for a few minutes get Twilio's word on them."""
    with app.app_context(), db.connection_context():
        return reconcile()


def forget_changed_days(app) -> int:
    """Consume the insights' stale marks (one row per call write) so the table stays small even when
    nobody opens the insights page; the summaries they touch are dropped and made again when asked for."""
    with app.app_context(), db.connection_context():
        return insight_days.forget_changed_days()


def run_forever(app, stop: threading.Event, poll: float = POLL_SECONDS, every: float = RECONCILE_SECONDS):
    """Drain (and now and then reconcile), sleep, repeat until ``stop`` is set; errors are logged."""
    next_reconcile = time.monotonic()
    while not stop.is_set():
        try:
            drain(app)
        except Exception:
            log.exception("outbox pass failed")
        if time.monotonic() >= next_reconcile:
            next_reconcile = time.monotonic() + every
            try:
                reconcile_calls(app)
            except Exception:
                log.exception("reconcile pass failed")
            try:
                forget_changed_days(app)
            except Exception:
                log.exception("consuming the insights' stale marks failed")
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
        click.echo(f"Attempted {drain(app)} HubSpot write(s); reconciled {reconcile_calls(app)} quiet call(s).")
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
