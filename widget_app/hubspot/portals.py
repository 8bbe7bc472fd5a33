"""The HubSpot portals we serve and their tokens (reference §4): code exchange, refresh, which token a call uses.

``hubspot_client(portal_id)`` is how every feature talks to HubSpot.
"""
import logging
import time
from datetime import timedelta

from flask import current_app, has_request_context, request

from widget_app.core.clock import utcnow
from widget_app.hubspot.client import (
    HubSpotClient,
    HubSpotError,
    session,
    unauthenticated_client,
)
from widget_app.hubspot.urls import paths
from widget_app.models import Portal

log = logging.getLogger(__name__)
# What the code calls needs (reference §4.5): calls, tasks, contact search and recordings/ready are governed
# by the contact scopes; owners by their own. The same list is in hubspot-app/src/app/app-hsmeta.json.
REQUIRED_SCOPES = ("crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read")
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before HubSpot's expiry, never after a 401


def redirect_uri(app) -> str:
    """Where HubSpot sends the admin back; the token endpoint wants the same value again."""
    base = app.config.get("PUBLIC_BASE_URL") or (request.host_url if has_request_context() else "")
    return base.rstrip("/") + "/hubspot/oauth/callback"


def _token_request(app, form: dict, idempotent: bool, deadline=None) -> dict:
    """POST the form-encoded token endpoint (no Bearer header; client id and secret in the form)."""
    form = {"client_id": app.config["HUBSPOT_CLIENT_ID"], "client_secret": app.config["HUBSPOT_CLIENT_SECRET"],
            **form}
    return unauthenticated_client(app, deadline).request("POST", paths(app).oauth_token, data=form, auth=False,
                                                         idempotent=idempotent)


def introspect(app, token: str, hint: str = "access_token") -> dict:
    """HubSpot's view of a token (token/introspect, reference §4.2): active, hub_id, scopes, token_type, …

    The token travels in the form body, never in a URL; the app's client id and secret go with it when set.
    """
    form = {"token": token, "token_type_hint": hint}
    if app.config.get("HUBSPOT_CLIENT_ID") and app.config.get("HUBSPOT_CLIENT_SECRET"):
        form.update(client_id=app.config["HUBSPOT_CLIENT_ID"], client_secret=app.config["HUBSPOT_CLIENT_SECRET"])
    return unauthenticated_client(app).request("POST", paths(app).token_introspect, data=form, auth=False,
                                               idempotent=True)


def _store_tokens(portal: Portal, tokens: dict):
    portal.access_token = tokens["access_token"]
    portal.refresh_token = tokens.get("refresh_token") or portal.refresh_token
    portal.expires_at = utcnow() + timedelta(seconds=int(tokens.get("expires_in") or 0))
    portal.needs_reinstall, portal.updated_at = False, utcnow()
    portal.save()


def exchange_code(app, code: str, installed_by=None) -> Portal:
    """Turn the callback's code into tokens and remember them under the portal (hub_id), with the admin who installed it."""
    tokens = _token_request(app, {"grant_type": "authorization_code", "redirect_uri": redirect_uri(app),
                                  "code": code}, idempotent=False)
    hub_id = tokens.get("hub_id") or introspect(app, tokens["access_token"])["hub_id"]
    portal = Portal.get_or_none(Portal.portal_id == str(hub_id)) or Portal(portal_id=str(hub_id))
    portal.installed_by = installed_by
    _store_tokens(portal, tokens)
    log.info("HubSpot portal %s installed the app", portal.portal_id)
    return portal


def refresh(app, portal: Portal, deadline=None) -> Portal:
    """Get a fresh access token; a dead refresh token marks the portal as needing a reinstall."""
    form = {"grant_type": "refresh_token", "redirect_uri": redirect_uri(app), "refresh_token": portal.refresh_token}
    try:
        tokens = _token_request(app, form, idempotent=True, deadline=deadline)
    except HubSpotError as exc:
        body = exc.body
        if exc.status == 400 and (body.get("status") == "BAD_REFRESH_TOKEN" or body.get("error") == "invalid_grant"):
            Portal.update(needs_reinstall=True, updated_at=utcnow()).where(Portal.id == portal.id).execute()
            raise reinstall_error(portal.portal_id, str(exc)) from exc
        raise
    _store_tokens(portal, tokens)
    return portal


def reinstall_error(portal_id, detail="") -> HubSpotError:
    return HubSpotError(f"HubSpot access for portal {portal_id} was revoked: reinstall the app. {detail}".strip(),
                        status=400, code="reinstall_required")


def portal_for(app, portal_id=None) -> Portal | None:
    """The installed portal whose token serves ``portal_id`` (None: the private-app token does).

    A call that came from no portal (an inbound call, an agent not yet linked) is served by the
    private-app token, or by the one installed portal when there is exactly one: never by "the latest".
    """
    if portal_id:
        return Portal.get_or_none(Portal.portal_id == str(portal_id))
    if app.config.get("HUBSPOT_ACCESS_TOKEN"):
        return None
    only = list(Portal.select().limit(2))
    return only[0] if len(only) == 1 else None


def access_token(app, portal_id=None, deadline=None) -> str:
    """The Bearer token for a portal: its OAuth token (refreshed early), else HUBSPOT_ACCESS_TOKEN."""
    portal = portal_for(app, portal_id)
    if portal is None and app.config.get("HUBSPOT_ACCESS_TOKEN"):
        return app.config["HUBSPOT_ACCESS_TOKEN"]
    if portal is None and portal_id:
        raise HubSpotError(f"HubSpot portal {portal_id} has not installed the app: an admin installs it "
                           "from /hubspot/oauth/install.", code="not_connected")
    if portal is None and Portal.select().exists():
        raise HubSpotError("This call came from no HubSpot portal and several are installed: it is logged nowhere. "
                           "Link the agent in HubSpot first.", code="portal_unknown")
    if portal is None:
        raise HubSpotError("HubSpot is not connected: set HUBSPOT_ACCESS_TOKEN or install the app.",
                           code="not_connected")
    if portal.needs_reinstall:
        raise reinstall_error(portal.portal_id)
    if portal.expires_at is None or portal.expires_at - utcnow() < REFRESH_MARGIN:
        portal = refresh(app, portal, deadline)
    return portal.access_token


def hubspot_client(portal_id=None, app=None, sleep=None, deadline=None) -> HubSpotClient:
    """A client for a portal's OAuth token, else the private-app token (HUBSPOT_ACCESS_TOKEN).

    ``deadline`` (a ``time.monotonic()`` value) bounds everything a call does, token refresh included.
    """
    app = app or current_app._get_current_object()
    return HubSpotClient(app.config["HUBSPOT_API_BASE"], session(app),
                         token=lambda: access_token(app, portal_id, deadline),
                         sleep=sleep or app.extensions.get("hubspot_sleep") or time.sleep, deadline=deadline)
