"""Inbound WhatsApp calls: who rings (the contact's owner, else every available agent), the TwiML
that rings them, and the ring's life: first accept wins, declines, missed calls."""
import logging
from datetime import timedelta

from peewee import IntegrityError
from twilio.twiml.voice_response import Dial, VoiceResponse

from widget_app.realtime import hub as realtime
from widget_app.core.clock import utcnow
from widget_app.web.errors import ApiError
from widget_app.models import Agent, Call, CallRing, db
from widget_app.core.phone import twilio_e164
from widget_app.twilio.signatures import public_base_url

log = logging.getLogger(__name__)
ONLINE_SECONDS = 60  # a socket heartbeat (every 20 s) younger than this means "signed in"
RING_SECONDS = 25
MAX_CLIENTS = 10  # Twilio dials at most ten <Client> nouns at once
MISSED = "no-answer"
RINGING = ("queued", "ringing")
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


def find_contact(e164: str) -> dict | None:
    """The HubSpot contact with this phone; any failure only means "unknown caller"."""
    try:
        from widget_app.hubspot import contacts
        contact = contacts.find_contact_by_phone(e164)
    except Exception:
        log.exception("inbound: contact lookup for %s failed; ringing as an unknown caller", e164)
        return None
    return {key: contact.get(key) for key in CONTACT_KEYS} if contact else None


def inbound_twiml(form) -> str:
    """POST /twilio/voice from WhatsApp: record the call once per CallSid, ring agents, answer TwiML."""
    sid = form.get("CallSid", "")
    if not sid.startswith("CA"):
        raise ApiError(400, "invalid_field", "CallSid is missing or malformed.", field="CallSid")
    call = Call.get_or_none(Call.sid == sid)
    call, agents = _record_and_ring(sid, form) if call is None else (call, _rung_agents(call))
    if call.status not in RINGING or not agents:
        return _nobody_twiml()
    return _dial_twiml(call, agents)


def _rung_agents(call: Call) -> list[Agent]:
    return list(Agent.select().join(CallRing).where(CallRing.call == call.id).order_by(CallRing.id))


def _record_and_ring(sid: str, form) -> tuple[Call, list[Agent]]:
    caller = twilio_e164(form.get("From", ""))
    contact = find_contact(caller)
    agents = choose_agents(contact)
    now = utcnow()
    try:
        with db.atomic():
            call = Call.create(
                direction="inbound", status="ringing" if agents else MISSED, sid=sid,
                from_number=caller, to_number=twilio_e164(form.get("To", "")),
                contact_id=(contact or {}).get("id"), owner_id=(contact or {}).get("owner_id"),
                contact_card=contact, started_at=now, ended_at=None if agents else now,
                created_at=now, updated_at=now)
            if agents:
                CallRing.insert_many([{"call": call.id, "agent": agent.id, "rung_at": now}
                                      for agent in agents]).execute()
            else:
                _log_missed_in_hubspot(call)
    except IntegrityError:  # Twilio's retry raced the first delivery: that one recorded it
        call = Call.get(Call.sid == sid)
        return call, _rung_agents(call)
    if agents:
        realtime.notify([agent.id for agent in agents], incoming_message(call))
    else:
        log.info("inbound: nobody available for call %s from %s; recorded as missed", call.id, caller)
    return call, agents


def _log_missed_in_hubspot(call: Call):
    """No widget rang, so no SDK engagement exists: queue the missed call for the contact's timeline."""
    try:
        from widget_app.hubspot import engagements
        with db.atomic():
            engagements.enqueue_call_sync(call)
    except Exception:
        log.exception("inbound: could not queue missed call %s for HubSpot", call.id)


def _dial_twiml(call: Call, agents: list[Agent]) -> str:
    from widget_app.hubspot import recordings

    base = public_base_url()
    response = VoiceResponse()
    consent = recordings.consent_say_text()
    if consent:  # the caller hears it before any agent is connected and recording starts
        response.say(consent)
    dial = Dial(answer_on_bridge=True, timeout=RING_SECONDS, action=f"{base}/twilio/voice/dial-done",
                **recordings.dial_recording_attrs())
    for agent in agents:
        client = dial.client(status_callback=f"{base}/twilio/voice/status",
                             status_callback_event="initiated ringing answered completed")
        client.identity(agent.voice_identity)
        client.parameter(name="CallId", value=str(call.id))
    response.append(dial)
    return str(response)


def _nobody_twiml() -> str:
    response = VoiceResponse()
    response.say(NOBODY_MESSAGE)
    response.hangup()
    return str(response)


def incoming_message(call: Call) -> dict:
    """The socket message (and /api/calls/ringing item) that makes a widget ring."""
    return {"type": "incoming_call", "call": call.to_dict(), "contact": call.contact_card}


def dial_done_twiml(form) -> str:
    """<Dial action>: an inbound call nobody took becomes a missed call; answered ones just end."""
    call = Call.get_or_none(Call.sid == form.get("CallSid", ""), Call.direction == "inbound")
    status = form.get("DialCallStatus", "")
    response = VoiceResponse()
    if call is not None and status in UNANSWERED:
        mark_missed(call)
        if status != "canceled":  # canceled: the caller already hung up
            response.say(NOBODY_MESSAGE)
    response.hangup()
    return str(response)


def mark_missed(call: Call, unclaimed_only: bool = False) -> bool:
    """Move a still-ringing call to missed exactly once and tell the agents it rang."""
    now = utcnow()
    query = Call.update(status=MISSED, ended_at=now, updated_at=now).where(
        Call.id == call.id, Call.status.in_(RINGING))
    if unclaimed_only:
        query = query.where(Call.agent.is_null())
    if not query.execute():
        return False
    call = Call.get_by_id(call.id)
    realtime.notify(rung_agent_ids(call), {"type": "call_status", "call": call.to_dict()})
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
        raise ApiError(404, "not_found", "No such incoming call rang for you.")
    return call


def claim(agent: Agent, call_id: int) -> Call:
    """Accept: the first agent wins (a compare-and-set UPDATE); the others stop ringing."""
    call = _rung_call(agent, call_id)
    won = Call.update(agent=agent.id, updated_at=utcnow()).where(
        Call.id == call.id, Call.agent.is_null(), Call.status.in_(RINGING)).execute()
    call = Call.get_by_id(call.id)
    if not won and call.agent_id != agent.id:
        if call.agent_id is not None:
            raise ApiError(409, "already_claimed", "Another agent has already taken this call.")
        raise ApiError(409, "call_not_ringing", "This call is no longer ringing.", call_status=call.status)
    if won:
        others = [agent_id for agent_id in rung_agent_ids(call) if agent_id != agent.id]
        realtime.notify(others, {"type": "call_claimed", "call_id": call.id})
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
