"""The calling extension's settings as HubSpot has them (`/crm/extensions/calling/<version>/<appId>/settings`).

These are developer-account settings, called with the developer API key (reference §5); `flask hubspot
settings …` writes them and the admin console shows them. HubSpot's own error message is kept as it is.
"""
import requests
from flask import current_app

from widget_app.config import DEMO_HUBSPOT
from widget_app.hubspot.urls import paths

TIMEOUT = (5, 15)  # connect, read (seconds)


class ExtensionSettingsError(Exception):
    """The settings could not be read or written; the message says why in words an admin can act on."""


def _setting(name: str) -> str:
    """A required setting, refusing demo mode's stand-in key."""
    value = current_app.config.get(name)
    if not value or (name == "HUBSPOT_DEVELOPER_API_KEY" and value == DEMO_HUBSPOT[name]):
        raise ExtensionSettingsError(f"{name} is not set: put it in the environment or .env "
                                     "(HubSpot developer account → Apps → your app).")
    return str(value)


def request_settings(method: str, part: str = "", body: dict | None = None) -> dict | None:
    """One settings request (``part``: "", "/recording" or "/channel-connection"); HubSpot's JSON or None."""
    app_id, key = _setting("HUBSPOT_APP_ID"), _setting("HUBSPOT_DEVELOPER_API_KEY")
    url = current_app.config["HUBSPOT_API_BASE"].rstrip("/") + paths().calling_settings(app_id, part)
    try:
        response = requests.request(method, url, params={"hapikey": key}, json=body, timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ExtensionSettingsError(f"Could not reach HubSpot: {exc.__class__.__name__}") from None
    if response.status_code >= 400:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text or response.reason
        raise ExtensionSettingsError(f"HubSpot answered {response.status_code}: {message}")
    return response.json() if response.content else None


def widget_url_problem(settings: dict | None) -> str | None:
    """Why HubSpot would not load our widget from these settings, or None when the URL is ours."""
    base = (current_app.config.get("PUBLIC_BASE_URL") or "").rstrip("/")
    url = (settings or {}).get("url")
    if not url:
        return "HubSpot has no widget URL for the app: run `flask hubspot settings create`."
    if base and url.rstrip("/") != base + "/widget":
        return f"HubSpot loads {url}, but this server's widget is {base}/widget."
    return None
