"""Missed inbound calls a rep should see: callers whose HubSpot contact they own, and callers nobody
owns (unknown numbers, contacts without an owner), with a count of the ones they have not looked at."""
import logging
from datetime import timedelta

from peewee import fn

from widget_app.core.clock import isoformat, utcnow
from widget_app.models import Agent, Call, CallRing
from widget_app.realtime import events, hub

log = logging.getLogger(__name__)

MISSED_DAYS = 7
UNANSWERED = ("no-answer", "busy", "failed", "canceled")


def missed_for(agent: Agent):
    """The inbound calls nobody answered in the last week that this agent may see, newest first."""
    since = utcnow() - timedelta(days=MISSED_DAYS)
    mine = Call.owner_id.is_null()
    if agent.hubspot_owner_id:
        mine = mine | (Call.owner_id == str(agent.hubspot_owner_id))
    return (Call.select().where(Call.direction == "inbound", Call.answered_at.is_null(),
                                Call.status.in_(UNANSWERED), Call.started_at >= since, mine)
            .order_by(Call.id.desc()))


def viewers(call: Call) -> list[int]:
    """The active agents who see this missed call: its contact's owner, or everyone when nobody owns it."""
    query = Agent.select(Agent.id).where(Agent.active == True)
    if call.owner_id:
        query = query.where(Agent.hubspot_owner_id == str(call.owner_id))
    return [agent.id for agent in query]


def tell_viewers(call: Call):
    """Refresh the Missed badge of the agents who see this call; like hub.notify, never raises."""
    try:
        hub.notify(viewers(call), events.missed_call(call.id))
    except Exception:
        log.exception("missed: could not tell the agents about missed call %s", call.id)


def unseen_count(agent: Agent) -> int:
    """How many of them arrived after the newest one the agent has looked at (the badge)."""
    return missed_for(agent).where(Call.id > agent.missed_seen_id).count()


def mark_seen(agent: Agent, up_to: int) -> int:
    """The agent looked at the list up to this call; never beyond the newest call they may see."""
    newest = missed_for(agent).order_by().select(fn.MAX(Call.id)).scalar() or 0
    mark = min(up_to, newest)
    Agent.update(missed_seen_id=mark).where(Agent.id == agent.id, Agent.missed_seen_id < mark).execute()
    return unseen_count(Agent.get_by_id(agent.id))


def _reason(call: Call, rings: list[CallRing]) -> str:
    """Why nobody answered, as the rep reads it."""
    if not rings:
        return "After hours" if call.after_hours else "Nobody was available"
    if all(ring.declined_at for ring in rings):
        return "Declined"
    return "Not answered"


def missed_json(calls: list[Call]) -> list[dict]:
    """The list's rows: who called (their HubSpot name when we matched one), when, and why it was missed."""
    rings = {}
    for ring in CallRing.select().where(CallRing.call.in_([call.id for call in calls])):
        rings.setdefault(ring.call_id, []).append(ring)
    return [{"id": call.id, "from": call.from_number, "started_at": isoformat(call.started_at),
             "status": call.status, "reason": _reason(call, rings.get(call.id, [])),
             "voicemail": {"seconds": call.voicemail_seconds} if call.voicemail_seconds is not None else None,
             "contact": {"id": (call.contact_card or {}).get("id"), "name": (call.contact_card or {}).get("name")}
             if call.contact_card else None}
            for call in calls]
