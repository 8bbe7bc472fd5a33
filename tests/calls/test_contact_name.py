"""GET /api/calls/<id>/contact (issue 14, item 10): an outbound call's contact named by HubSpot's contact search
on the number we recorded, kept on the call so the history names them too; unknown or unreachable is None."""
import json

import responses

from tests.helpers import CONTACT_PHONE, HUBSPOT_API
from widget_app.models import Call

SEARCH_URL = f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search"


def dana(phone=CONTACT_PHONE):
    """HubSpot's contacts search answer with one contact, Dana Demo."""
    return {"total": 1, "results": [{
        "id": "501", "archived": False, "createdAt": "2026-01-01T10:00:00.000Z", "updatedAt": "2026-01-02T10:00:00.000Z",
        "properties": {"firstname": "Dana", "lastname": "Demo", "email": "dana@example.com", "phone": phone,
                       "mobilephone": None, "hubspot_owner_id": "789", "hs_object_id": "501"}}]}


def test_the_contact_is_looked_up_by_the_recorded_number_once_and_kept(client, auth_headers, make_call, http_mock):
    http_mock.add(responses.POST, SEARCH_URL, json=dana())
    call = make_call(initiated=True)
    answer = client.get(f"/api/calls/{call.id}/contact", headers=auth_headers)
    assert answer.status_code == 200
    assert answer.json["contact"] == {"id": "501", "name": "Dana Demo"}
    searched = json.loads(http_mock.calls[0].request.body)
    assert {"propertyName": "phone", "operator": "EQ", "value": CONTACT_PHONE} in \
        [f for group in searched["filterGroups"] for f in group["filters"]]

    # Kept: the second ask and the history need no search.
    assert client.get(f"/api/calls/{call.id}/contact", headers=auth_headers).json["contact"]["name"] == "Dana Demo"
    assert len(http_mock.calls) == 1
    assert Call.get_by_id(call.id).to_dict()["contact"] == {"id": "501", "name": "Dana Demo"}
    history = client.get("/api/calls", headers=auth_headers).json["calls"]
    assert history[0]["contact"] == {"id": "501", "name": "Dana Demo"}


def test_a_number_hubspot_does_not_know_has_no_name(client, auth_headers, make_call, http_mock):
    http_mock.add(responses.POST, SEARCH_URL, json={"total": 0, "results": []})
    call = make_call(initiated=True)
    assert client.get(f"/api/calls/{call.id}/contact", headers=auth_headers).json == {"contact": None}
    assert Call.get_by_id(call.id).contact_card is None


def test_hubspot_down_is_no_name_not_an_error(client, auth_headers, make_call, http_mock):
    http_mock.add(responses.POST, SEARCH_URL, status=503, json={"status": "error", "message": "down"})
    call = make_call(initiated=True)
    answer = client.get(f"/api/calls/{call.id}/contact", headers=auth_headers)
    assert answer.status_code == 200 and answer.json == {"contact": None}


def test_another_agents_call_is_404(client, auth_headers, make_call, make_agent, http_mock):
    call = make_call(initiated=True, agent=make_agent(email="bo@example.com"))
    answer = client.get(f"/api/calls/{call.id}/contact", headers=auth_headers)
    assert answer.status_code == 404 and answer.json["error"]["code"] == "call_not_found"
    assert len(http_mock.calls) == 0
