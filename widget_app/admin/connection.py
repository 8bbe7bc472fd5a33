"""The HubSpot section's services: which portals we serve and their token health, and the outbox of
writes that have not reached HubSpot yet (pending or failed, with HubSpot's reason) with a retry."""
from dataclasses import dataclass

from flask import current_app
from peewee import JOIN, fn

from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.hubspot.engagements import retry_call_sync
from widget_app.hubspot.extension import ExtensionSettingsError, request_settings, widget_url_problem
from widget_app.models import Agent, Call, EngagementSync, Portal

OUTBOX_PAGE = 100


@dataclass
class PortalState:
    portal: Portal
    installer: str | None
    token_expired: bool  # the access token's expiry passed (the worker refreshes it on the next write)
    health: str  # "connected" | "token expired: refreshed on the next write" | "needs reinstall"


def portals() -> list[PortalState]:
    now = utcnow()
    states = []
    for portal in Portal.select(Portal, Agent).join(Agent, join_type=JOIN.LEFT_OUTER, on=Portal.installed_by == Agent.id) \
            .order_by(Portal.portal_id):
        expired = bool(portal.expires_at and portal.expires_at <= now)
        health = ("needs reinstall" if portal.needs_reinstall
                  else "token expired: refreshed on the next write" if expired else "connected")
        installer = portal.installed_by.email if portal.installed_by_id and portal.installed_by else None
        states.append(PortalState(portal, installer, expired, health))
    return states


def auth_modes() -> dict:
    """How the app reaches HubSpot: a private app's token and/or OAuth installs (never the secrets themselves)."""
    config = current_app.config
    return {"private_app": bool(config.get("HUBSPOT_ACCESS_TOKEN")),
            "oauth": bool(config.get("HUBSPOT_CLIENT_ID") and config.get("HUBSPOT_CLIENT_SECRET"))}


# The calling extension's fields as HubSpot names them, and what each means to an admin.
EXTENSION_FIELDS = (("name", "Name shown to HubSpot users"), ("url", "Widget URL HubSpot loads"),
                    ("isReady", "Production-ready (shown to every user)"),
                    ("supportsInboundCalling", "Inbound calling"), ("usesCallingWindow", "Uses HubSpot's calling window"),
                    ("usesRemote", "Uses the calling remote"), ("supportsCustomObjects", "Click-to-dial on custom objects"),
                    ("width", "Width (px)"), ("height", "Height (px)"))


@dataclass
class ExtensionState:
    settings: dict | None  # HubSpot's answer, None when it could not be read
    problem: str | None  # why it could not be read, or why HubSpot would not load our widget from it

    @property
    def rows(self) -> list[tuple[str, str]]:
        def shown(value):
            return "–" if value is None else ("yes" if value is True else "no" if value is False else str(value))
        return [(label, shown((self.settings or {}).get(field))) for field, label in EXTENSION_FIELDS]


def calling_extension() -> ExtensionState:
    """The calling extension's settings as HubSpot has them now (one request, bounded by its timeout)."""
    try:
        settings = request_settings("GET")
    except ExtensionSettingsError as exc:
        return ExtensionState(None, str(exc))
    return ExtensionState(settings, widget_url_problem(settings))


def outbox() -> list[EngagementSync]:
    """Writes not done yet, failed first, then the longest waiting (with their calls)."""
    return list(EngagementSync.select(EngagementSync, Call).join(Call)
                .where(EngagementSync.done == False)
                .order_by((EngagementSync.status != "failed"), EngagementSync.next_attempt_at, EngagementSync.id)
                .limit(OUTBOX_PAGE))


def outbox_counts() -> dict:
    rows = (EngagementSync.select(EngagementSync.status, fn.COUNT(EngagementSync.id))
            .where(EngagementSync.done == False).group_by(EngagementSync.status).tuples())
    return {"pending": 0, "failed": 0, **dict(rows)}


def outbox_entry(sync_id: int) -> EngagementSync:
    row = EngagementSync.get_or_none(EngagementSync.id == sync_id)
    if row is None:
        raise DomainError("not_found", "No such outbox entry.")
    return row


def retry(row: EngagementSync) -> EngagementSync:
    """The admin's retry of a write: rebuilt from the call as it is now, pending and due at once."""
    if row.done:
        raise DomainError("already_synced", "HubSpot already has this call.")
    return retry_call_sync(Call.get_by_id(row.call_id))
