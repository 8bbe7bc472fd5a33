"""Senders in countries where Meta forbids business-initiated calls: warned about, never used to call out."""
import logging

from tests.helpers import CONTACT_PHONE
from widget_app.calls.senders import add_sender
from widget_app.models import Call

US_SENDER = "+12126647665"
UK_SENDER = "+442071838751"


def test_numbers_add_warns_about_a_sender_that_cannot_call_out_and_still_adds_it(runner, db):
    result = runner.invoke(args=["numbers", "add", "--e164", US_SENDER, "--name", "New York"])
    assert result.exit_code == 0, result.output
    assert "Warning: Meta does not allow business-initiated calls from numbers in the United States" in result.output
    assert "inbound" in result.output


def test_numbers_add_does_not_warn_about_a_sender_that_can_call_out(runner, db):
    result = runner.invoke(args=["numbers", "add", "--e164", UK_SENDER, "--name", "London"])
    assert "Warning" not in result.output


def test_startup_warns_about_a_configured_sender_that_cannot_call_out(make_app, caplog):
    with caplog.at_level(logging.WARNING):
        make_app(TWILIO_WHATSAPP_NUMBER=US_SENDER)
    assert any("cannot place outbound calls" in record.getMessage() and US_SENDER in record.getMessage()
               for record in caplog.records)


def test_startup_warns_about_a_stored_sender_that_cannot_call_out(make_app, db, caplog):
    add_sender(US_SENDER, "New York")
    with caplog.at_level(logging.WARNING):
        make_app()
    assert any(US_SENDER in record.getMessage() for record in caplog.records)


def test_numbers_api_marks_which_senders_can_call_out(client, db, auth_headers):
    add_sender(US_SENDER, "New York")
    numbers = {n["e164"]: n for n in client.get("/api/numbers", headers=auth_headers).json["numbers"]}
    assert numbers[US_SENDER]["can_call_out"] is False
    assert "United States" in numbers[US_SENDER]["no_outbound_reason"]
    assert numbers["+442071838750"]["can_call_out"] is True


def test_initiate_refuses_a_sender_that_cannot_call_out(client, db, auth_headers, grant_permission):
    add_sender(US_SENDER, "New York")
    grant_permission()
    response = client.post("/api/calls/initiate", json={"phone": CONTACT_PHONE, "from": US_SENDER},
                           headers=auth_headers)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "sender_cannot_call_out"
    assert Call.select().count() == 0


def test_the_default_sender_is_never_one_that_cannot_call_out(client, db, auth_headers, grant_permission):
    add_sender(US_SENDER, "New York", default=True)
    grant_permission()
    response = client.post("/api/calls/initiate", json={"phone": CONTACT_PHONE}, headers=auth_headers)
    assert response.status_code == 201, response.json
    assert response.json["call"]["from"] == "+442071838750"


def test_initiate_without_any_sender_that_can_call_out_is_refused(make_app, agent, headers_for):
    app = make_app(TWILIO_WHATSAPP_NUMBER=US_SENDER)
    with app.test_client() as other:
        response = other.post("/api/calls/initiate", json={"phone": CONTACT_PHONE}, headers=headers_for(agent, app))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "sender_cannot_call_out"
