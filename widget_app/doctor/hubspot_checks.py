"""HubSpot, asked through its REST API: the token and its scopes, the calling-extension settings.

HUBSPOT_ACCESS_TOKEN (a Service Key, or a legacy private-app token) is introspected
(`POST /oauth/<version>/token/introspect`, the token in the form body, never in a URL): HubSpot says
whether it is active, which kind it is and which scopes it has. If HubSpot will not introspect it, the
token is tried on the account-details call instead, and its scopes are left to the admin to check.
The settings are read with the developer API key, as the settings CLI does (`?hapikey=`, reference §5).
"""
import requests
from flask import current_app

from widget_app.doctor.findings import fail, ok, warn
from widget_app.hubspot.portals import REQUIRED_SCOPES
from widget_app.hubspot.urls import paths
from widget_app.models import Portal

TIMEOUT = (5, 15)  # connect, read (seconds)
TOKEN_FIX = "create a Service Key (HubSpot > Settings > Integrations > Service Keys) with the scopes " + \
    ", ".join(REQUIRED_SCOPES) + " and set HUBSPOT_ACCESS_TOKEN to it"
UNKNOWN_TOKEN = (400, 401, 403, 404)


def api(path: str) -> str:
    """A HubSpot REST URL on HUBSPOT_API_BASE."""
    return current_app.config["HUBSPOT_API_BASE"].rstrip("/") + path


def _json(response) -> dict:
    try:
        body = response.json() if response.content else {}
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def token_scopes(info: dict) -> set | None:
    """The scopes HubSpot lists: a list (``scopes``) or RFC 7662's space-separated ``scope``; None if neither."""
    scopes = info.get("scopes") if info.get("scopes") is not None else info.get("scope")
    if isinstance(scopes, str):
        return set(scopes.split())
    if isinstance(scopes, list):
        return {str(scope) for scope in scopes}
    return None


def token_kind(info: dict, token: str) -> str:
    """What the token is, as far as HubSpot's answer (or a private-app token's pat- prefix) tells."""
    named = " ".join(str(info.get(key) or "") for key in ("token_type", "token_use")).lower()
    if "service" in named or info.get("is_service_account") or info.get("isServiceAccount"):
        return "Service Key"
    if token.startswith("pat-"):
        return "private-app token (legacy)"
    if info.get("expires_in") and (info.get("client_id") or info.get("app_id")):
        return "OAuth access token"
    return "static token"


def check_token() -> list:
    """A static token must be active and carry our scopes; without one, some portal must have installed the app."""
    token = current_app.config.get("HUBSPOT_ACCESS_TOKEN")
    if not token:
        with current_app.extensions["database"].connection_context():
            portals = Portal.select().where(Portal.needs_reinstall == False).count()
        if not portals:
            return [fail("HubSpot", "no HUBSPOT_ACCESS_TOKEN and no portal installed through OAuth",
                         f"install the app: open {current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/hubspot/oauth/install "
                         "as a HubSpot admin (or set HUBSPOT_ACCESS_TOKEN)")]
        return [ok("HubSpot", f"{portals} portal(s) installed through OAuth")]
    form = {"token": token, "token_type_hint": "access_token"}
    config = current_app.config
    if config.get("HUBSPOT_CLIENT_ID") and config.get("HUBSPOT_CLIENT_SECRET"):
        form.update(client_id=config["HUBSPOT_CLIENT_ID"], client_secret=config["HUBSPOT_CLIENT_SECRET"])
    response = requests.post(api(paths().token_introspect), data=form, timeout=TIMEOUT)
    if response.status_code in UNKNOWN_TOKEN:
        return _token_without_introspection(token, response.status_code)
    if response.status_code != 200:
        return [fail("HubSpot token", f"HubSpot answered {response.status_code}", "try again; if it persists, check status.hubspot.com")]
    info = _json(response)
    if info.get("active") is False:
        return [fail("HubSpot token", "HubSpot says HUBSPOT_ACCESS_TOKEN is not active (revoked, deleted or expired)",
                     TOKEN_FIX)]
    kind, portal = token_kind(info, token), info.get("hub_id") or info.get("hubId")
    findings = []
    if kind == "OAuth access token":
        findings.append(warn("HubSpot token kind", "HUBSPOT_ACCESS_TOKEN is an OAuth access token: it expires within the hour",
                             "use a Service Key for one portal, or leave HUBSPOT_ACCESS_TOKEN empty and install through OAuth"))
    scopes = token_scopes(info)
    if scopes is None:
        return findings + [warn("HubSpot token", f"a {kind} for portal {portal}; HubSpot did not list its scopes",
                                "check that it has " + ", ".join(REQUIRED_SCOPES))]
    missing = [scope for scope in REQUIRED_SCOPES if scope not in scopes]
    if missing:
        return findings + [fail("HubSpot token", f"the {kind} is missing scopes: " + ", ".join(missing),
                                "add them to the Service Key (or private app), then update HUBSPOT_ACCESS_TOKEN if it changed")]
    return findings + [ok("HubSpot token", f"a {kind}, valid for portal {portal}, with the scopes we need")]


def _token_without_introspection(token: str, status: int) -> list:
    """HubSpot would not introspect the token: whether it works at all, asked with it as a Bearer token."""
    response = requests.get(api(paths().account_details), headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    if response.status_code != 200:
        return [fail("HubSpot token", f"HubSpot does not know HUBSPOT_ACCESS_TOKEN ({response.status_code})", TOKEN_FIX)]
    portal = _json(response).get("portalId")
    return [warn("HubSpot token", f"valid for portal {portal}, but HubSpot would not introspect it ({status}): "
                 "its scopes are unchecked", "check that it has " + ", ".join(REQUIRED_SCOPES))]


def check_calling_settings(expect_ready: bool) -> list:
    """The calling extension is registered, points at our /widget, takes inbound calls, and isReady as expected."""
    config = current_app.config
    app_id, key = config.get("HUBSPOT_APP_ID"), config.get("HUBSPOT_DEVELOPER_API_KEY")
    if not (app_id and key):
        return [warn("HubSpot calling settings", "HUBSPOT_APP_ID / HUBSPOT_DEVELOPER_API_KEY not set: not checked",
                     "set both to let `flask doctor` and `flask hubspot settings` read the registration")]
    response = requests.get(api(paths().calling_settings(app_id)), params={"hapikey": key}, timeout=TIMEOUT)
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
