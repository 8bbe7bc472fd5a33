"""Twilio unreachable or hanging: every REST call has a timeout, and ending a call answers 502 (not
500) and leaves the call as it was, so the agent can end it once Twilio answers again."""
import requests

from tests.helpers import TEST_SETTINGS, TWILIO_API
from widget_app.models import Call

BROWSER_LEG = "CA" + "b" * 32
WHATSAPP_LEG = "CA" + "w" * 32
HANG_UP_URL = f"{TWILIO_API}/Calls/{BROWSER_LEG}.json"
COMPLETED = {"sid": BROWSER_LEG, "status": "completed", "account_sid": TEST_SETTINGS["TWILIO_ACCOUNT_SID"]}


def end(client, headers, call):
    return client.post("/api/calls/end", json={"call_id": call.id}, headers=headers)


def test_end_when_twilio_is_unreachable_answers_502_with_a_clear_message(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, sid=WHATSAPP_LEG, status="in-progress")
    http_mock.post(HANG_UP_URL, body=requests.ConnectionError("connection refused"))
    response = end(client, auth_headers, call)
    assert response.status_code == 502, response.json
    assert response.json["error"]["code"] == "twilio_unreachable"
    assert "try again" in response.json["error"]["message"].lower()
    assert Call.get_by_id(call.id).status == "in-progress"


def test_end_when_twilio_times_out_answers_502(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, sid=WHATSAPP_LEG, status="ringing")
    http_mock.post(HANG_UP_URL, body=requests.exceptions.ReadTimeout("read timed out"))
    response = end(client, auth_headers, call)
    assert response.status_code == 502 and response.json["error"]["code"] == "twilio_unreachable"


def test_a_call_twilio_could_not_end_can_be_ended_once_twilio_answers(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, sid=WHATSAPP_LEG, status="in-progress")
    http_mock.post(HANG_UP_URL, body=requests.ConnectionError("connection refused"))
    assert end(client, auth_headers, call).status_code == 502
    http_mock.replace("POST", HANG_UP_URL, json=COMPLETED)
    response = end(client, auth_headers, call)
    assert response.status_code == 200, response.json
    assert [c.request.url for c in http_mock.calls] == [HANG_UP_URL, HANG_UP_URL]


def test_every_twilio_rest_call_is_sent_with_a_timeout(client, auth_headers, make_call, http_mock):
    call = make_call(initiated=True, parent_sid=BROWSER_LEG, sid=WHATSAPP_LEG, status="in-progress")
    http_mock.post(HANG_UP_URL, json=COMPLETED)
    assert end(client, auth_headers, call).status_code == 200
    [sent] = http_mock.calls
    assert sent.request.req_kwargs["timeout"] == 10
