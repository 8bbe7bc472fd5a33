"""First accept wins, on SQLite and PostgreSQL, when every rung agent presses Accept at the same moment."""
import json
import urllib.error
import urllib.request

from tests.races.conftest import post_together_with, stored
from widget_app.agents.accounts import issue_token
from widget_app.models import Agent, db

from .test_inbound_legs import ringing_call


def accept(address, token, call_id) -> int:
    request = urllib.request.Request(f"http://{address}/api/calls/{call_id}/accept", method="POST", data=b"{}",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        assert json.loads(error.read())["error"]["code"] == "already_claimed"
        return error.code


def test_five_agents_accepting_together_leave_one_owner(served):
    app, address, _ = served
    with db.connection_context():
        agents = [Agent.create(email=f"claim{n}@example.com", name=f"Claim {n}", password_hash="x") for n in range(5)]
    call = ringing_call(agents)
    with app.test_request_context():
        tokens = [issue_token(agent) for agent in agents]
    statuses = post_together_with(lambda token: accept(address, token, call.id), tokens)
    assert sorted(statuses) == [200, 409, 409, 409, 409]
    winner = agents[statuses.index(200)]
    assert stored(call).agent_id == winner.id
