"""Meta forbids business-initiated calls from business numbers of some countries (reference §1.6)."""
import pytest

from widget_app.core.calling_countries import outbound_blocked_in


@pytest.mark.parametrize("sender, country", [
    ("+12126647665", "the United States"), ("+14165550123", "Canada"), ("+201001234567", "Egypt"),
    ("+84912345678", "Vietnam"), ("+2348031234567", "Nigeria"), ("+905321234567", "Turkey"),
    ("+989121234567", "Iran"),
])
def test_senders_from_countries_without_business_initiated_calls_are_named(sender, country):
    assert outbound_blocked_in(sender) == country


@pytest.mark.parametrize("sender", ["+442071838751", "+34911234567", "+18765551234", "+5511988887777"])
def test_senders_elsewhere_may_call_out_even_under_country_code_1(sender):
    assert outbound_blocked_in(sender) is None  # +1 876 is Jamaica, not the US
