"""The agent's wrap-up of a call: notes and outcome kept on the call as a draft while they are typed
(during the call too), then saved (queued for HubSpot) or deliberately discarded. Until one of those,
the widget brings the ended screen back after a reload."""
from widget_app.core.clock import utcnow
from widget_app.core.errors import DomainError
from widget_app.hubspot.engagements import OUTCOMES
from widget_app.models import Agent, Call

MAX_NOTES = 65535  # HubSpot's limit for a text property such as hs_call_body
ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
SAVED, DISCARDED = "saved", "discarded"


def checked(notes: str | None, outcome: str | None) -> tuple[str | None, str | None]:
    """Notes within HubSpot's limit and one of HubSpot's outcomes (an empty <select> means none)."""
    outcome = outcome or None
    if notes is not None and len(notes) > MAX_NOTES:
        raise DomainError("invalid_field", f"Notes can be at most {MAX_NOTES} characters.", field="notes")
    if outcome is not None and outcome not in OUTCOMES:
        raise DomainError("invalid_field", "The outcome must be one of HubSpot's call outcomes.", field="outcome",
                          allowed=sorted(OUTCOMES))
    return notes, outcome


def own_call(agent: Agent, ref) -> Call:
    """The agent's own call by id or CallSid; anyone else's is 404, the same as one that does not exist."""
    call = Call.by_ref(ref)
    if call is None or call.agent_id != agent.id:
        raise DomainError("call_not_found", "No such call.")
    return call


def save_draft(agent: Agent, ref, notes: str | None, outcome: str | None) -> Call:
    """Keep what the agent typed, without queuing anything for HubSpot; refused once saved or discarded."""
    notes, outcome = checked(notes, outcome)
    call = own_call(agent, ref)
    # One UPDATE guarded on the row itself: a draft that arrives after the save (a debounce in flight,
    # another worker) cannot change notes HubSpot was already given.
    changed = Call.update(notes=notes, outcome=outcome, updated_at=utcnow()).where(
        Call.id == call.id, Call.wrapup.is_null()).execute()
    if not changed:
        raise DomainError("wrapup_closed", "This call's notes were already saved or discarded.",
                          wrapup=Call.get_by_id(call.id).wrapup)
    return Call.get_by_id(call.id)


def discard(agent: Agent, ref) -> Call:
    """The agent chose not to log notes: drop the draft, and the ended screen stops coming back."""
    call = own_call(agent, ref)
    if call.status not in ENDED:
        raise DomainError("call_not_ended", "The call is still going: hang up first.", call_status=call.status)
    changed = Call.update(wrapup=DISCARDED, notes=None, outcome=None, updated_at=utcnow()).where(
        Call.id == call.id, Call.wrapup.is_null()).execute()
    call = Call.get_by_id(call.id)
    if not changed and call.wrapup != DISCARDED:
        raise DomainError("wrapup_closed", "This call's notes were already saved.", wrapup=call.wrapup)
    return call


def mark_saved(call: Call):
    """The call is queued for HubSpot (saved, or a retry from history): its wrap-up is done."""
    Call.update(wrapup=SAVED).where(Call.id == call.id).execute()
