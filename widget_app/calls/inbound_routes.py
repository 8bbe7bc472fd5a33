"""HTTP API for inbound calls: ringing calls for the agent, accept (first one wins), decline, presence."""
from flask import Blueprint

from widget_app.calls import inbound as routing
from widget_app.agents.routes import current_agent, login_required
from widget_app.web.jsonbody import json_body
from widget_app.models import Agent

bp = Blueprint("inbound_api", __name__, url_prefix="/api")


@bp.get("/calls/ringing")
@login_required
def ringing():
    """Calls ringing for this agent now, so a widget that reconnected does not lose a ring."""
    return {"calls": [routing.incoming_message(call) for call in routing.ringing_for(current_agent())]}


@bp.post("/calls/<int:call_id>/accept")
@login_required
def accept(call_id: int):
    """Take the call if nobody has yet (409 already_claimed otherwise)."""
    return {"call": routing.claim(current_agent(), call_id).to_dict()}


@bp.post("/calls/<int:call_id>/decline")
@login_required
def decline(call_id: int):
    """Stop ringing for this agent; the last decline makes the call missed."""
    return {"call": routing.decline(current_agent(), call_id).to_dict()}


@bp.post("/presence")
@login_required
def presence():
    """The availability toggle without a socket; stored, so every process routes the same way."""
    body = json_body(available=bool)
    agent = current_agent()
    Agent.update(available=body["available"]).where(Agent.id == agent.id).execute()
    return {"agent": Agent.get_by_id(agent.id).to_dict()}
