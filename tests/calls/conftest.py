"""Fixtures the call tests share: our sender's business hours in Lisbon, and a WhatsApp call arriving
at a given moment."""
import xml.etree.ElementTree as ET

import pytest
import responses
from freezegun import freeze_time

from tests.calls.helpers import SEARCH_URL, SENDER, inbound_form


@pytest.fixture
def lisbon_hours(runner, db):
    """Our sender is open mon-fri 09:00-18:00 Europe/Lisbon, and closed on 2026-06-10."""
    for args in (["hours", "--number", SENDER, "--tz", "Europe/Lisbon", "--set", "mon-fri 09:00-18:00"],
                 ["closed", "--number", SENDER, "--date", "2026-06-10"]):
        result = runner.invoke(args=["numbers", *args])
        assert result.exit_code == 0, result.output


@pytest.fixture
def calls_in(http_mock, twilio_post, agent):
    """A WhatsApp call arrives while the agent's widget is open; returns the TwiML we answered."""
    http_mock.add(responses.POST, SEARCH_URL, json={"total": 0, "results": []})
    count = iter(range(100))

    def call_in(moment):
        with freeze_time(moment):
            agent.last_seen_at, agent.available = moment, True
            agent.save()
            answer = twilio_post("/twilio/voice", inbound_form(f"CA{next(count):032d}"))
        assert answer.status_code == 200
        return ET.fromstring(answer.data)
    return call_in
