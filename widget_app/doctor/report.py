"""Run every check in order and collect the findings; a check that cannot reach its service is a finding too."""
import requests

from widget_app.doctor import hubspot_checks, local, twilio_checks
from widget_app.doctor.findings import FAIL, fail


def guarded(subject: str, check, *args) -> list:
    """Run one check; a service that does not answer becomes a FAIL line instead of a traceback."""
    try:
        return check(*args)
    except (twilio_checks.Unreachable, requests.RequestException) as exc:
        reason = exc.args[0] if isinstance(exc, twilio_checks.Unreachable) else type(exc).__name__
        return [fail(subject, f"no answer ({reason})", "check the machine's outbound network and the service's status page")]


def run_checks(expect_ready: bool = True) -> list:
    """Every finding, settings first: without live settings nothing else can be checked."""
    findings = local.check_settings()
    if any(finding.status == FAIL for finding in findings):
        return findings
    findings += local.check_database() + local.check_redis()
    credentials = guarded("Twilio credentials", twilio_checks.check_credentials)
    findings += credentials
    if not any(f.status == FAIL and f.subject == "Twilio credentials" for f in credentials):
        findings += guarded("TwiML App", twilio_checks.check_twiml_app)
        findings += guarded("WhatsApp senders", twilio_checks.check_senders)
        findings += guarded("Content template", twilio_checks.check_content_template)
        findings += guarded("Call invite template", twilio_checks.check_invite_template)
    findings += guarded("HubSpot token", hubspot_checks.check_token)
    findings += guarded("HubSpot calling settings", hubspot_checks.check_calling_settings, expect_ready)
    return findings
