"""`flask doctor`: check the live set-up line by line; exit 1 when anything needs fixing (CONTRACT §8)."""
import sys

import click
from flask.cli import with_appcontext

from widget_app.doctor.findings import FAIL, WARN
from widget_app.doctor.report import run_checks


@click.command("doctor")
@click.option("--testing", is_flag=True, help="expect HubSpot's isReady to be false (while you test in your own browser)")
@with_appcontext
def doctor_command(testing):
    """Check settings, database, Redis, Twilio and HubSpot; print each problem with its fix."""
    findings = run_checks(expect_ready=not testing)
    for finding in findings:
        for line in finding.lines():
            click.echo(line)
    problems = sum(finding.status == FAIL for finding in findings)
    warnings = sum(finding.status == WARN for finding in findings)
    click.echo(f"\ndoctor: {problems} problem(s), {warnings} warning(s)" if problems or warnings else "\ndoctor: all good")
    sys.exit(1 if problems else 0)
