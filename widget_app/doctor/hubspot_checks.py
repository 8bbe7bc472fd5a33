"""HubSpot, asked through its REST API: the token and its scopes, the calling-extension settings.

The private-app token info (`POST /oauth/v2/private-apps/get/access-token-info`, the token in the body,
never in a URL) lists the token's scopes; the settings are read with the developer API key, as the
settings CLI does (`?hapikey=`, reference §5).
"""
import requests
from flask import current_app

from widget_app.doctor.findings import fail, ok, warn
from widget_app.models import Portal

TIMEOUT = (5, 15)  # connect, read (seconds)
# What the widget calls with: contacts (search, calls are governed by contact scopes) and owners (reference §4.5).
REQUIRED_SCOPES = ("crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read")
TOKEN_FIX = "create a Service Key or private app with the scopes " + ", ".join(REQUIRED_SCOPES) + \
    " and set HUBSPOT_ACCESS_TOKEN to its token"


def api(path: str) -> str:
    """A HubSpot REST URL on HUBSPOT_API_BASE."""
    return current_app.config["HUBSPOT_API_BASE"].rstrip("/") + path


def check_token() -> list:
    """A static token must be valid and carry our scopes; without one, some portal must have installed the app."""
    token = current_app.config.get("HUBSPOT_ACCESS_TOKEN")
    if not token:
        with current_app.extensions["database"].connection_context():
            portals = Portal.select().where(Portal.needs_reinstall == False).count()
        if not portals:
            return [fail("HubSpot", "no HUBSPOT_ACCESS_TOKEN and no portal installed through OAuth",
                         f"install the app: open {current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/hubspot/oauth/install "
                         "as a HubSpot admin (or set HUBSPOT_ACCESS_TOKEN)")]
        return [ok("HubSpot", f"{portals} portal(s) installed through OAuth")]
    response = requests.post(api("/oauth/v2/private-apps/get/access-token-info"), json={"tokenKey": token}, timeout=TIMEOUT)
    if response.status_code in (400, 401, 403, 404):
        return [fail("HubSpot token", f"HubSpot does not know HUBSPOT_ACCESS_TOKEN ({response.status_code})", TOKEN_FIX)]
    if response.status_code != 200:
        return [fail("HubSpot token", f"HubSpot answered {response.status_code}", "try again; if it persists, check status.hubspot.com")]
    info = response.json() if response.content else {}
    scopes = set(info.get("scopes") or []) if isinstance(info, dict) else set()
    missing = [scope for scope in REQUIRED_SCOPES if scope not in scopes]
    if missing:
        return [fail("HubSpot token", "missing scopes: " + ", ".join(missing),
                     "add them to the private app or Service Key (HubSpot > Development), then update HUBSPOT_ACCESS_TOKEN if it changed")]
    return [ok("HubSpot token", f"valid for portal {info.get('hubId')}, with the scopes we need")]


def check_calling_settings(expect_ready: bool) -> list:
    """The calling extension is registered, points at our /widget, takes inbound calls, and isReady as expected."""
    config = current_app.config
    app_id, key = config.get("HUBSPOT_APP_ID"), config.get("HUBSPOT_DEVELOPER_API_KEY")
    if not (app_id and key):
        return [warn("HubSpot calling settings", "HUBSPOT_APP_ID / HUBSPOT_DEVELOPER_API_KEY not set: not checked",
                     "set both to let `flask doctor` and `flask hubspot settings` read the registration")]
    response = requests.get(api(f"/crm/v3/extensions/calling/{app_id}/settings"), params={"hapikey": key}, timeout=TIMEOUT)
    if response.status_code == 404:
        return [fail("HubSpot calling settings", f"app {app_id} has no calling extension registered",
                     "run `flask --app wsgi hubspot settings create`")]
    if response.status_code in (401, 403):
        return [fail("HubSpot calling settings", f"the developer API key was rejected ({response.status_code})",
                     "copy the developer API key of the developer account that owns HUBSPOT_APP_ID")]
    if response.status_code != 200:
        return [fail("HubSpot calling settings", f"HubSpot answered {response.status_code}", "check HUBSPOT_APP_ID")]
    settings = response.json() if response.content else {}
    wanted = config["PUBLIC_BASE_URL"].rstrip("/") + "/widget"
    findings = []
    if settings.get("url") != wanted:
        findings.append(fail("HubSpot calling settings", f"url is {settings.get('url') or '(empty)'}: HubSpot loads another widget",
                             f"run `flask --app wsgi hubspot settings update --url {wanted}`"))
    else:
        findings.append(ok("HubSpot calling settings", f"url is {wanted}"))
    if not settings.get("supportsInboundCalling"):
        findings.append(warn("HubSpot inbound calling", "supportsInboundCalling is false: inbound calls are not shown in HubSpot",
                             "run `flask --app wsgi hubspot settings update --inbound`"))
    ready = bool(settings.get("isReady"))
    if ready != expect_ready:
        fix = ("when testing is done, run `flask --app wsgi hubspot settings update --ready`" if expect_ready else
               "while testing, run `flask --app wsgi hubspot settings update --not-ready` (and check with `flask doctor --testing`)")
        findings.append(fail("HubSpot isReady", f"isReady is {str(ready).lower()}, expected {str(expect_ready).lower()}", fix))
    else:
        findings.append(ok("HubSpot isReady", str(ready).lower() + ("" if ready else " (testing: only your own browser sees it)")))
    return findings
