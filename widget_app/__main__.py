"""`python -m widget_app`: the demo on this machine in one command (schema, demo agent, server)."""
import os

from werkzeug.serving import run_simple

from widget_app import create_app
from widget_app import db as db_module
from widget_app.agents.accounts import (
    DEMO_EMAIL,
    DEMO_NAME,
    DEMO_PASSWORD,
    create_agent,
    find_agent,
)
from widget_app.models import Agent


def first_run_agent() -> Agent | None:
    """A fresh demo database gets the demo agent to sign in with; an existing team is left alone."""
    if not Agent.select().exists():
        return create_agent(DEMO_EMAIL, DEMO_NAME, DEMO_PASSWORD)
    return find_agent(DEMO_EMAIL)


def main():
    """Upgrade the schema, make sure someone can sign in (demo only), print where to go, serve."""
    app = create_app()
    port = int(os.environ.get("PORT", "5000"))
    demo = app.config["WIDGET_MODE"] == "demo"
    with app.app_context():
        db_module.upgrade()
        with app.extensions["database"].connection_context():
            demo_agent = first_run_agent() if demo else None
    if demo:
        print(f"\n  HubSpot simulator: http://127.0.0.1:{port}/dev/hubspot", flush=True)
        if demo_agent is not None:
            print(f"  Sign in to the widget as {DEMO_EMAIL} / password {DEMO_PASSWORD}", flush=True)
        print(flush=True)
    else:
        print(f"\n  Widget (live mode): http://127.0.0.1:{port}/widget\n", flush=True)
    run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
