"""Calls: placing an outbound WhatsApp call, who may see and end it, and the checks Twilio's ask re-runs."""
import logging

from peewee import IntegrityError
from requests import RequestException
from twilio.base.exceptions import TwilioException, TwilioRestException

from widget_app.calls.inbound import find_contact
from widget_app.calls.progress import FINAL_STATUSES, finish_locally, notify_call
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.core.ids import is_id, parse_id
from widget_app.core.phone import to_e164, twilio_e164
from widget_app.models import Agent, Call, db
from widget_app.permissions import ledger
from widget_app.twilio.client import refusal_text, twilio_client

log = logging.getLogger(__name__)
CONTACT_TYPE_ID = "0-1"  # HubSpot's object type id of contacts (calleeInfo.calleeObjectTypeId)


class CallRefused(Exception):
    """Twilio asked to dial, but this call may not go out; ``spoken`` is what the agent hears."""

    def __init__(self, code: str, spoken: str, call: Call | None = None):
        super().__init__(spoken)
        self.code, self.spoken, self.call = code, spoken, call


def _optional_id(record: dict, key: str) -> str | None:
    """An id the widget may send, as ASCII digits (400 otherwise); absent or empty is None."""
    value = record.get(key)
    return None if value is None or value == "" else parse_id(value, key)


def _contact_id(hubspot: dict) -> str | None:
    """HubSpot's contact id, from the record the agent dialed from or the callee HubSpot matched."""
    object_id = _optional_id(hubspot, "objectId")
    callee = hubspot.get("calleeInfo")
    callee_id = _optional_id(callee, "calleeId") if isinstance(callee, dict) else None
    if str(hubspot.get("objectType", "")).upper() == "CONTACT" and object_id:
        return object_id
    if callee_id and str(callee.get("calleeObjectTypeId", "")) in (CONTACT_TYPE_ID, "CONTACT"):
        return callee_id
    return None


def engagement_in_use() -> DomainError:
    """An engagement belongs to one call: another call's id would overwrite that call on HubSpot."""
    return DomainError("engagement_in_use", "This HubSpot engagement already belongs to another call.")


def verdict_or_raise(phone: str, row=None):
    """Stop a call the permission ledger forbids (no permission, or over the daily cap); ``row``: the
    contact's Permission row in hand."""
    verdict = ledger.call_verdict(phone, row=row)
    if not verdict.can_call:
        raise DomainError(verdict.code or "permission_required", verdict.reason,
                          permission=ledger.permission_json(phone, row))
    return verdict


def start_outbound(agent: Agent, phone: str, sender: str, hubspot: dict) -> Call:
    """Record the call before the browser dials, so Twilio's webhook can check it is this agent's. The
    record reserves a place under the daily cap: calls to one contact are checked one at a time."""
    to = to_e164(phone)  # the agent dials: strict
    contact_id, engagement_id = _contact_id(hubspot), _optional_id(hubspot, "engagementId")
    try:
        with db.atomic():
            verdict_or_raise(to, ledger.lock(to))
            # The portal is the one this agent is bound to; the widget's portalId never picks a token.
            return Call.create(
                direction="outbound", status="queued", from_number=sender, to_number=to, agent=agent,
                hubspot_portal_id=agent.hubspot_portal_id, contact_id=contact_id, engagement_id=engagement_id,
                owner_id=agent.hubspot_owner_id, started_at=utcnow())
    except IntegrityError:  # the unique engagement id: another call holds it
        raise engagement_in_use() from None


def name_contact(agent: Agent, call_id) -> dict | None:
    """The HubSpot contact this agent's outbound call goes to, looked up by the number we recorded (never one
    the widget sends) once and kept on the call, so every screen and the history can say the name.
    None when HubSpot does not know the number or cannot be reached in time (the number is shown instead)."""
    call = call_for_agent(agent, call_id)
    if call.contact_card or call.direction != "outbound":
        return call.to_dict()["contact"]
    contact = find_contact(call.to_number, call.hubspot_portal_id)
    if contact:
        Call.update(contact_card=contact, updated_at=utcnow()).where(
            (Call.id == call.id) & Call.contact_card.is_null()).execute()
        return {"id": contact.get("id"), "name": contact.get("name")}
    return None


def voice_params(call: Call) -> dict:
    """What the browser hands Twilio.Device.connect; Twilio forwards it to /twilio/voice.

    The sender travels as ``Sender``: ``From`` is Twilio's own field (``client:<identity>``).
    """
    return {"To": call.to_number, "CallId": str(call.id), "Sender": call.from_number}


def call_for_agent(agent: Agent, id_or_sid) -> Call:
    """One of this agent's calls by our id or a Twilio CallSid; 404 for anything else."""
    call = Call.by_ref(id_or_sid)
    if call is None or call.agent_id != agent.id:
        raise DomainError("call_not_found", "No such call.")
    return call


def authorize_outbound(identity: str, leg_sid: str, call_id: str, dialed: str) -> Call:
    """Re-check, when Twilio asks, that the browser dials its own queued call to the recorded number.

    ``identity`` is the browser's Twilio client identity, ``leg_sid`` its CallSid, ``call_id`` and
    ``dialed`` what it asked for. Returns the call with the browser leg's CallSid stored; raises
    ``CallRefused`` otherwise (the agent's own call is then marked failed so the widget can show why).
    """
    call = Call.get_or_none(Call.id == int(call_id)) if is_id(call_id) else None
    if call is None or call.direction != "outbound":
        raise CallRefused("call_not_found", "This call could not be found. Please dial again.")
    if call.agent is None or call.agent.voice_identity != identity:
        raise CallRefused("call_not_yours", "This call belongs to another agent.")
    if call.status != "queued" or call.parent_sid not in (None, leg_sid):
        raise CallRefused("call_already_started", "This call has already been placed. Please dial again.")
    try:
        to = twilio_e164(dialed)
    except DomainError:
        to = None
    if to != call.to_number:
        _refuse(call, "destination_mismatch", "The number dialed does not match this call. Please dial again.")
    with db.atomic():  # checked and claimed while no other call to this contact is being reserved
        verdict = ledger.call_verdict(call.to_number, exclude_call=call.id, row=ledger.lock(call.to_number))
        claimed = verdict.can_call and (
            Call.update(parent_sid=leg_sid, updated_at=utcnow())
            .where((Call.id == call.id) & (Call.status == "queued") &
                   (Call.parent_sid.is_null() | (Call.parent_sid == leg_sid))).execute())
    if not verdict.can_call:
        _refuse(call, verdict.code or "permission_required", verdict.reason)
    if not claimed:
        raise CallRefused("call_already_started", "This call has already been placed. Please dial again.")
    return Call.get_by_id(call.id)


def _refuse(call: Call, code: str, message: str):
    """End the agent's call before it rings anyone, and tell their widget why."""
    finish_locally(call, "failed", error_code=code, error_message=message)
    raise CallRefused(code, message, call)


def hang_up(call: Call) -> Call:
    """End the call at Twilio (the browser leg ends the WhatsApp leg too); the callbacks do the rest."""
    if call.status in FINAL_STATUSES:
        return call
    leg = call.parent_sid or call.sid
    if leg is None:  # the browser never reached Twilio: nothing rings, just close the record
        return finish_locally(call, "canceled")
    try:
        twilio_client().calls(leg).update(status="completed")
    except TwilioRestException as exc:
        log.warning("hanging up %s failed: %s %s", leg, exc.code, exc.msg)
        raise DomainError("twilio_error", f"Twilio could not end the call. {refusal_text(exc)}",
                          twilio_code=exc.code) from None
    except (TwilioException, RequestException) as exc:  # unreachable, timed out, or an unreadable answer
        log.warning("hanging up %s failed: Twilio unreachable (%s)", leg, exc.__class__.__name__)
        raise DomainError("twilio_unreachable", "Twilio could not be reached to end the call. "
                          "Please try again in a moment.") from None
    return Call.get_by_id(call.id)


def set_engagement(call: Call, engagement_id: str) -> Call:
    """Keep the engagement HubSpot created for this call, so notes and outcome land on it (one call each)."""
    try:
        with db.atomic():
            Call.update(engagement_id=engagement_id, updated_at=utcnow()).where(Call.id == call.id).execute()
    except IntegrityError:  # the unique index decides, also between two workers at once
        raise engagement_in_use() from None
    call = Call.get_by_id(call.id)
    notify_call(call)
    return call
