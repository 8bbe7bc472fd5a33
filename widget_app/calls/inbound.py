"""Inbound WhatsApp calls: who rings (the contact's owner, else every available agent) and the ring's
life: first accept wins, declines, missed calls. The Twilio webhook turns the results into TwiML.

The ring never waits for HubSpot (issue 16): it rings at once from what the shared contact cache knows
(the owner's agent when the cached card names one), and a look-up off the request path stores the card
on the call and sends it to the widgets it rang (``call_contact``).
"""
import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from peewee import IntegrityError

from widget_app.calls import hours as business_hours
from widget_app.calls import missed
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.phone import twilio_e164
from widget_app.hubspot import contacts, engagements
from widget_app.models import Agent, Call, CallRing, db
from widget_app.permissions import ledger
from widget_app.realtime import events, hub

log = logging.getLogger(__name__)
ONLINE_SECONDS = 60  # a socket heartbeat (every 20 s) younger than this means "signed in"
RING_SECONDS = 25
MAX_CLIENTS = 10  # Twilio dials at most ten <Client> nouns at once
MISSED = "no-answer"
RINGING = ("queued", "ringing")
ROUTING = "queued"  # an inbound call recorded, its caller not yet looked up and nobody rung
LOOKUP_BUDGET = 5.0  # seconds for the look-up behind a ring (one attempt); the ring itself does not wait
NOBODY_LOOKUP_BUDGET = 2.0  # nobody to ring: the missed call's owner is looked up before the caller hears why
CARD_STATUSES = ("ringing", "in-progress")  # a card arriving later than this changes nothing
UNANSWERED = ("no-answer", "busy", "failed", "canceled")
NOBODY_MESSAGE = "Sorry, nobody can take your call right now. Please try again later."
CONTACT_KEYS = ("id", "name", "firstname", "lastname", "email", "owner_id")




def online_agents():
    """Agents who can take a call now: active, available, and with a live socket heartbeat."""
    fresh = utcnow() - timedelta(seconds=ONLINE_SECONDS)
    return (Agent.select().where(Agent.active == True, Agent.available == True,
                                 Agent.last_seen_at >= fresh)
            .order_by(Agent.last_seen_at.desc(), Agent.id).limit(MAX_CLIENTS))


def choose_agents(contact: dict | None) -> list[Agent]:
    """The contact owner's agent when online, else every online agent (at most ten)."""
    owner_id = (contact or {}).get("owner_id")
    owners = list(online_agents().where(Agent.hubspot_owner_id == str(owner_id))) if owner_id else []
    return owners or list(online_agents())


def _card(contact: dict | None) -> dict | None:
    return {key: contact.get(key) for key in CONTACT_KEYS} if contact else None


def find_contact(e164: str, portal_id=None, budget: float = LOOKUP_BUDGET) -> dict | None:
    """The HubSpot contact with this phone, within ``budget`` seconds; any failure only means "unknown caller"."""
    try:
        contact = contacts.find_contact_by_phone(e164, portal_id=portal_id, budget=budget)
    except Exception:
        log.exception("inbound: a contact look-up failed; the caller stays unknown")  # no number in logs
        return None
    return _card(contact)


def known_contact(e164: str) -> tuple[bool, dict | None]:
    """What the shared cache knows of the caller, without asking HubSpot; cache trouble means "not known"."""
    try:
        known, contact = contacts.cached_contact(e164)
    except Exception:
        log.exception("inbound: the contact cache failed; ringing as an unknown caller")
        return False, None
    return known, _card(contact) if known else None


@dataclass(frozen=True)
class Ring:
    """What an incoming call does: ring these agents' browsers, or (none) tell the caller nobody can answer."""
    call: Call
    agents: list[Agent]


def receive(sid: str, caller: str, called: str) -> Ring:
    """A WhatsApp user calls us: record the call once per CallSid, then ring who can take it.

    The row is committed first, so a lost worker still leaves the call on record; a call still
    ``queued`` has not been routed yet, and any delivery routes it. HubSpot is asked afterwards, off
    the request path, unless the shared cache already knew the caller.
    """
    if not sid.startswith("CA"):
        raise DomainError("invalid_field", "CallSid is missing or malformed.", field="CallSid")
    call, agents = _record(sid, caller, called), None
    if call.status == ROUTING:
        call, agents = _route(call)
    if agents is None:  # an earlier delivery of this call routed it: ring whom it rang
        agents = _rung_agents(call)
    return Ring(call, agents if call.status in RINGING else [])


def _rung_agents(call: Call) -> list[Agent]:
    return list(Agent.select().join(CallRing).where(CallRing.call == call.id).order_by(CallRing.id))


def _record(sid: str, caller: str, called: str) -> Call:
    """Write the call (not yet routed) at once; Twilio's retry (or a delivery racing us) finds the row the
    first delivery wrote: the unique CallSid refuses a second one."""
    now = utcnow()
    try:
        with db.atomic():
            call = Call.create(direction="inbound", status=ROUTING, sid=sid, from_number=twilio_e164(caller),
                               to_number=twilio_e164(called), started_at=now, created_at=now, updated_at=now)
            granted = ledger.grant_callback(call.from_number, sid, now)  # issue 15: the call-in is a callback grant
    except IntegrityError:  # a retry, or a delivery racing the first: that one recorded the call
        # (a retry costs a refused INSERT where a first delivery saves a SELECT: retries are the rare case)
        return Call.get(Call.sid == sid)
    if granted:
        ledger.notify(call.from_number)
    return call


def _route(call: Call) -> tuple[Call, list[Agent] | None]:
    """Ring the chosen agents (or record a missed call) exactly once, from what the cache knows of the
    caller; an unknown caller rings every available agent while HubSpot is asked in the background.
    Returns the call and the agents this delivery rang (None: another delivery routed it meanwhile)."""
    known, contact = known_contact(call.from_number)
    now = utcnow()
    closed = business_hours.closed_at(call.to_number, now)  # issue 15: after hours nobody rings
    agents = [] if closed else choose_agents(contact)
    if not agents and not known:
        # Nobody to ring, so no ring waits: the owner decides who sees the missed call and gets its
        # follow-up task, and the engagement's title names the contact, so ask HubSpot (briefly) now.
        contact, known = find_contact(call.from_number, budget=NOBODY_LOOKUP_BUDGET), True
    routed = {"status": "ringing" if agents else MISSED, "after_hours": closed, "contact_id": (contact or {}).get("id"),
              "owner_id": (contact or {}).get("owner_id"), "contact_card": contact,
              "ended_at": None if agents else now, "updated_at": now}
    with db.atomic():
        won = Call.update(**routed).where(Call.id == call.id, Call.status == ROUTING).execute()
        if not won:  # another delivery of the same call routed it meanwhile
            return Call.get_by_id(call.id), None
        for field, value in routed.items():  # the row as written, without reading it back
            setattr(call, field, value)
        if agents:
            CallRing.insert_many([{"call": call.id, "agent": agent.id, "rung_at": now} for agent in agents]).execute()
        else:
            engagements.enqueue_call_sync(call)  # nobody rang: logged now, in the same transaction
    if agents:
        hub.notify([agent.id for agent in agents], events.incoming_call(call))
        if not known:  # after the ring's message, so a widget never hears of the card before the ring
            look_up_later(call)
    else:
        log.info("inbound: nobody available for call %s; recorded as missed", call.id)
        missed.tell_viewers(call)
    return call, agents


def look_up_later(call: Call) -> threading.Thread:
    """Ask HubSpot who calls on a thread of its own (a greenlet under gevent), bounded by LOOKUP_BUDGET."""
    app = current_app._get_current_object()
    thread = threading.Thread(target=_look_up, args=(app, call.id, call.from_number), daemon=True,
                              name=f"contact-look-up-{call.id}")
    pending = app.extensions.setdefault("contact_look_ups", set())
    pending.add(thread)
    thread.start()
    return thread


def _look_up(app, call_id: int, e164: str):
    try:
        with app.app_context(), db.connection_context():
            attach_contact(call_id, find_contact(e164))
    except Exception:
        log.exception("inbound: storing the contact of call %s failed", call_id)
    finally:
        app.extensions.get("contact_look_ups", set()).discard(threading.current_thread())


def wait_for_look_ups(app, timeout: float = 10.0) -> bool:
    """Join the look-ups still running (shutdown, tests); True when none is left."""
    for thread in list(app.extensions.get("contact_look_ups", ())):
        thread.join(timeout)
    return not app.extensions.get("contact_look_ups")


def attach_contact(call_id: int, contact: dict | None) -> bool:
    """Store a late card on a call still ringing or in progress (a compare-and-set: a card arriving
    after the call ended, or after another card, changes nothing) and send it to the widgets it rang."""
    if not contact:
        return False
    stored = Call.update(contact_card=contact, contact_id=contact.get("id"), owner_id=contact.get("owner_id"),
                         updated_at=utcnow()).where(
        Call.id == call_id, Call.status.in_(CARD_STATUSES), Call.contact_card.is_null()).execute()
    if not stored:
        return False
    hub.notify(rung_agent_ids(Call.get_by_id(call_id)), events.call_contact(call_id, contact))
    return True


def dial_finished(sid: str, dial_status: str) -> Call | None:
    """<Dial action>: an inbound call nobody took becomes missed. The call when the caller is still there
    to hear why (and leave a voicemail); None when it was answered or they hung up themselves."""
    call = Call.get_or_none(Call.sid == sid, Call.direction == "inbound")
    if call is None or dial_status not in UNANSWERED:
        return None
    mark_missed(call)
    return Call.get_by_id(call.id) if dial_status != "canceled" else None


def mark_missed(call: Call, unclaimed_only: bool = False) -> bool:
    """Move a still-ringing call to missed exactly once, queue it for HubSpot's timeline in the same
    transaction, and tell the agents it rang."""
    now = utcnow()
    query = Call.update(status=MISSED, ended_at=now, updated_at=now).where(
        Call.id == call.id, Call.status.in_(RINGING))
    if unclaimed_only:
        query = query.where(Call.agent.is_null())
    with db.atomic():
        if not query.execute():
            return False
        call = Call.get_by_id(call.id)
        engagements.enqueue_call_sync(call)
    hub.notify(rung_agent_ids(call), events.call_status(call))
    missed.tell_viewers(call)
    return True


def rung_agent_ids(call: Call) -> list[int]:
    return [ring.agent_id for ring in CallRing.select().where(CallRing.call == call.id)]


def ringing_for(agent: Agent) -> list[Call]:
    """Inbound calls still ringing for this agent (rung, not declined, not taken by someone else)."""
    since = utcnow() - timedelta(seconds=ONLINE_SECONDS)
    return list(Call.select().join(CallRing).where(
        CallRing.agent == agent.id, CallRing.declined_at.is_null(), Call.direction == "inbound",
        Call.status == "ringing", Call.started_at >= since,
        Call.agent.is_null() | (Call.agent == agent.id)).order_by(Call.started_at))


def _rung_call(agent: Agent, call_id: int) -> Call:
    call = (Call.select().join(CallRing)
            .where(Call.id == call_id, Call.direction == "inbound", CallRing.agent == agent.id).first())
    if call is None:
        raise DomainError("not_found", "No such incoming call rang for you.")
    return call


def claim(agent: Agent, call_id: int) -> Call:
    """Accept: the first agent wins (a compare-and-set UPDATE); the others stop ringing."""
    call = _rung_call(agent, call_id)
    won = Call.update(agent=agent.id, updated_at=utcnow()).where(
        Call.id == call.id, Call.agent.is_null(), Call.status.in_(RINGING)).execute()
    call = Call.get_by_id(call.id)
    if not won and call.agent_id != agent.id:
        if call.agent_id is not None:
            raise DomainError("already_claimed", "Another agent has already taken this call.")
        raise DomainError("call_not_ringing", "This call is no longer ringing.", call_status=call.status)
    if won:
        others = [agent_id for agent_id in rung_agent_ids(call) if agent_id != agent.id]
        hub.notify(others, events.call_claimed(call.id))
    return call


def decline(agent: Agent, call_id: int) -> Call:
    """Decline: stop ringing this agent; when every agent it rang declined, the call is missed."""
    call = _rung_call(agent, call_id)
    with db.atomic():
        CallRing.update(declined_at=utcnow()).where(
            CallRing.call == call.id, CallRing.agent == agent.id, CallRing.declined_at.is_null()).execute()
        waiting = CallRing.select().where(CallRing.call == call.id, CallRing.declined_at.is_null()).count()
    if waiting == 0:
        mark_missed(call, unclaimed_only=True)
    return Call.get_by_id(call.id)
