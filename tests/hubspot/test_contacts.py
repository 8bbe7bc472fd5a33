"""Finding the HubSpot contact behind a WhatsApp number (one ORed search, cached briefly)."""
import requests
from responses import matchers

from tests.helpers import HUBSPOT_API
from widget_app.hubspot.contacts import find_contact_by_phone

SEARCH = f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search"
ANA = {"id": "104901", "properties": {"createdate": "2024-10-01T10:00:00.000Z", "email": "ana@example.com",
                                      "firstname": "Ana", "lastname": "Souza", "hs_object_id": "104901",
                                      "phone": "+55 11 98888-7777", "mobilephone": None,
                                      "hubspot_owner_id": "11349275740"},
       "createdAt": "2024-10-01T10:00:00.000Z", "updatedAt": "2025-04-30T09:00:00.000Z", "archived": False}


def test_searches_phone_and_mobile_as_e164_and_as_national_digits(app_ctx, http_mock):
    expected = {"filterGroups": [
        {"filters": [{"propertyName": "phone", "operator": "EQ", "value": "+5511988887777"}]},
        {"filters": [{"propertyName": "mobilephone", "operator": "EQ", "value": "+5511988887777"}]},
        {"filters": [{"propertyName": "hs_searchable_calculated_phone_number", "operator": "EQ",
                      "value": "11988887777"}]},
        {"filters": [{"propertyName": "hs_searchable_calculated_mobile_number", "operator": "EQ",
                      "value": "11988887777"}]}],
        "properties": ["firstname", "lastname", "email", "phone", "mobilephone", "hubspot_owner_id"],
        "sorts": [], "limit": 10, "after": "0"}
    http_mock.post(SEARCH, json={"total": 1, "results": [ANA]}, match=[matchers.json_params_matcher(expected)])
    assert find_contact_by_phone("+5511988887777") == {
        "id": "104901", "name": "Ana Souza", "firstname": "Ana", "lastname": "Souza", "email": "ana@example.com",
        "owner_id": "11349275740"}


def test_no_match_is_none(app_ctx, http_mock):
    http_mock.post(SEARCH, json={"total": 0, "results": []})
    assert find_contact_by_phone("+447700900999") is None


def test_answers_are_cached_briefly_per_number(app_ctx, http_mock):
    http_mock.post(SEARCH, json={"total": 1, "results": [ANA]})
    find_contact_by_phone("+5511988887777")
    find_contact_by_phone("+5511988887777")
    assert len(http_mock.calls) == 1


def test_the_cache_expires(app, app_ctx, http_mock):
    from widget_app.hubspot import contacts
    cache = app.extensions["hubspot_contact_cache"] = contacts.TTLCache(60, clock=lambda: now[0])
    now = [0.0]
    http_mock.post(SEARCH, json={"total": 1, "results": [ANA]})
    find_contact_by_phone("+5511988887777")
    now[0] = 61.0
    find_contact_by_phone("+5511988887777")
    assert len(http_mock.calls) == 2 and cache.get(("", "+5511988887777"))[0]


def test_hubspot_trouble_is_none_and_not_cached_unless_errors_are_wanted(app_ctx, http_mock, hubspot_sleeps):
    http_mock.post(SEARCH, body=requests.ConnectionError("down"))
    assert find_contact_by_phone("+5511988887777") is None
    http_mock.replace("POST", SEARCH, json={"total": 1, "results": [ANA]})
    assert find_contact_by_phone("+5511988887777")["id"] == "104901"


def test_demo_mode_knows_dana_demo(make_app):
    app = make_app(WIDGET_MODE="demo")
    with app.app_context():
        contact = find_contact_by_phone("+447400123456")
        nobody = find_contact_by_phone("+447700900999")
    assert contact == {"id": "1001", "name": "Dana Demo", "firstname": "Dana", "lastname": "Demo",
                       "email": "dana.demo@example.com", "owner_id": "789"}
    assert nobody is None
