"""Which HubSpot portal and owner an agent is: bound only to a portal we serve, and an owner HubSpot confirms
(its email, or the HubSpot user we already hold, is this agent's) or an admin set. Inbound calls route on it."""
import logging

from flask import current_app

from widget_app.agents.accounts import normalise_email
from widget_app.core.errors import DomainError
from widget_app.hubspot.client import HubSpotError
from widget_app.hubspot.portals import hubspot_client
from widget_app.hubspot.urls import paths
from widget_app.models import Agent, Portal, db

log = logging.getLogger(__name__)
PRIVATE_PORTAL_KEY = "hubspot_private_app_portal"


def _hubspot_failed(exc: HubSpotError) -> DomainError:
    return DomainError("hubspot_error", f"HubSpot could not confirm your HubSpot account now: {exc}")


def private_app_portal(app) -> str | None:
    """The portal HUBSPOT_ACCESS_TOKEN belongs to, asked once per process (None without that token)."""
    if not app.config.get("HUBSPOT_ACCESS_TOKEN"):
        return None
    if PRIVATE_PORTAL_KEY not in app.extensions:
        details = hubspot_client(None, app=app).request("GET", paths(app).account_details, idempotent=True)
        app.extensions[PRIVATE_PORTAL_KEY] = str(details["portalId"])
    return app.extensions[PRIVATE_PORTAL_KEY]


def serves(app, portal_id: str) -> bool:
    """Whether this deployment serves the portal: an admin installed it, or the private-app token is its."""
    if Portal.select().where(Portal.portal_id == portal_id).exists():
        return True
    try:
        return private_app_portal(app) == portal_id
    except (HubSpotError, KeyError, TypeError) as exc:
        raise _hubspot_failed(exc) from None


def confirmed_owner(app, agent: Agent, portal_id: str, owner_id: str) -> dict:
    """HubSpot's owner record, when its email (or the HubSpot user we hold for the agent) is this agent's; else 403."""
    try:
        owner = hubspot_client(portal_id, app=app).request("GET", paths(app).owner(owner_id),
                                                           params={"idProperty": "id"}, idempotent=True)
    except HubSpotError as exc:
        if exc.status == 404:
            raise not_yours() from None
        raise _hubspot_failed(exc) from None
    same_email = normalise_email(str(owner.get("email") or "")) == normalise_email(agent.email)
    same_user = agent.hubspot_user_id is not None and str(owner.get("userId")) == agent.hubspot_user_id
    if not (same_email or same_user):
        log.warning("agent %s asked for HubSpot owner %s of portal %s, whose email is not theirs",
                    agent.id, owner_id, portal_id)
        raise not_yours()
    return owner


def not_yours() -> DomainError:
    return DomainError("owner_not_confirmed", "HubSpot does not confirm this owner is you; an admin can link it "
                                              "(flask agents set-owner).")


def link(agent: Agent, portal_id: str, owner_id: str) -> Agent:
    """Bind the agent to a portal we serve and an owner that is theirs; one owner routes to one agent."""
    app = current_app._get_current_object()
    if agent.hubspot_portal_id != portal_id and not serves(app, portal_id):
        raise DomainError("portal_not_served", "This HubSpot account has not installed the app; ask an admin to.")
    changes = {"hubspot_portal_id": portal_id}
    if owner_id != agent.hubspot_owner_id:  # an owner we already hold was confirmed or set by an admin
        owner = confirmed_owner(app, agent, portal_id, owner_id)
        user_id = owner.get("userId")
        changes.update(hubspot_owner_id=owner_id, hubspot_user_id=None if user_id is None else str(user_id))
    with db.atomic():
        assign_owner(agent, **changes)
    return Agent.get_by_id(agent.id)


def assign_owner(agent: Agent, **changes):
    """Give the agent these HubSpot ids; whoever else held the same owner (in that portal) stops routing it."""
    owner_id = changes.get("hubspot_owner_id", agent.hubspot_owner_id)
    portal_id = changes.get("hubspot_portal_id", agent.hubspot_portal_id)
    if owner_id:
        others = (Agent.id != agent.id) & (Agent.hubspot_owner_id == owner_id)
        if portal_id:
            others &= Agent.hubspot_portal_id.is_null() | (Agent.hubspot_portal_id == portal_id)
        Agent.update(hubspot_owner_id=None, hubspot_user_id=None).where(others).execute()
    Agent.update(**changes).where(Agent.id == agent.id).execute()
