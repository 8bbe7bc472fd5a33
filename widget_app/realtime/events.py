"""Every message the server sends to widgets over /ws is built here (CONTRACT §6)."""


def incoming_call(call) -> dict:
    """Makes a widget ring (also an item of /api/calls/ringing)."""
    return {"type": "incoming_call", "call": call.to_dict(), "contact": call.contact_card}


def call_contact(call_id: int, contact: dict) -> dict:
    """The HubSpot contact of a call that rang before HubSpot answered: show who calls."""
    return {"type": "call_contact", "call_id": call_id, "contact": contact}


def call_status(call) -> dict:
    """A call of this agent changed (status, engagement, end)."""
    return {"type": "call_status", "call": call.to_dict()}


def call_claimed(call_id: int) -> dict:
    """Another agent took the call that rang here: stop ringing."""
    return {"type": "call_claimed", "call_id": call_id}


def permission_updated(permission: dict) -> dict:
    """A contact's call permission changed; every widget may show it (permissions are team-wide)."""
    return {"type": "permission_updated", "permission": permission}


def missed_call(call_id: int) -> dict:
    """An inbound call nobody answered that this agent may call back: refresh the Missed badge."""
    return {"type": "missed_call", "call_id": call_id}
