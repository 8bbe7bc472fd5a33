"""Hostile input on every route (issue 12, item 5): a clear 4xx or an ordinary answer, never a 5xx,
and a refusal changes nothing.

The routes come from the app's URL map, so a route added later is attacked without anyone listing
it. Each is sent the corpus below in every place a caller controls: path segments, query strings,
JSON bodies (signed in as an agent), Twilio forms (signed as Twilio signs them) and HubSpot's
signature headers.
"""
import json
import tempfile
from urllib.parse import quote

import pytest

from tests.helpers import TEST_SETTINGS, hubspot_v3_signature
from widget_app import create_app
from widget_app.models import (
    Agent,
    Call,
    EngagementSync,
    LoginAttempt,
    Permission,
    PermissionRequest,
    PhoneNumber,
    Portal,
    WebhookEvent,
)
from widget_app.twilio.signatures import sign

# The values that gave 500s in the attack run, and a few of their cousins.
HOSTILE = [
    "²",                                # "²".isdigit() is True, int("²") raises
    "١٢٣",                              # Arabic-Indic digits: int() takes them, no column should
    "9" * 5000,                         # beyond int()'s 4300-digit limit and every column
    "9" * 40,                           # beyond a 64-bit column
    "-1", "0", "1e309", "NaN",
    "\x00", "a\x00b",                   # NUL: PostgreSQL refuses it in text
    "\ud800",                           # a lone surrogate: no UTF-8 for it
    "x" * 300,                          # beyond a 255-character column
    "../../contacts/501?archived=true",
    "' OR 1=1 --", "<script>alert(1)</script>",
]
# Path segments and query values as raw bytes on the wire (what %-encoding can smuggle in).
RAW_SEGMENTS = ["%00", "%C2%B2", "%ED%A0%80", "%FF", "%2e%2e%2f", "9" * 5000, "x" * 300, "-1", "0"]
JSON_FIELDS = ["phone", "from", "call_id", "engagementId", "notes", "outcome", "available", "email", "password",
               "portalId", "userId", "ownerId", "appId"]
TWILIO_FIELDS = ["CallSid", "ParentCallSid", "From", "To", "Caller", "CallStatus", "SequenceNumber", "CallDuration",
                 "DialCallStatus", "ErrorCode", "ErrorMessage", "CallId", "MessageSid", "MessageStatus", "Body",
                 "ButtonPayload", "ButtonText", "MessageType", "OriginalRepliedMessageSid", "Interactive",
                 "RecordingSid", "RecordingStatus", "RecordingUrl"]
KNOWN_SIDS = {"CallSid": "CA" + "c" * 32, "MessageSid": "SM" + "d" * 32, "RecordingSid": "RE" + "e" * 32}
DEEP_JSON = "[" * 5000 + "]" * 5000
TABLES = (Agent, LoginAttempt, PhoneNumber, Permission, PermissionRequest, Call, EngagementSync, WebhookEvent, Portal)


def all_routes():
    """(endpoint, rule, method, arguments) for every route of the URL map but static files and /ws."""
    with tempfile.TemporaryDirectory(prefix="urlmap-") as scratch:  # the map needs no database
        app = create_app({**TEST_SETTINGS, "INSTANCE_PATH": scratch, "DATABASE_URL": f"sqlite:///{scratch}/map.db"})
    return [pytest.param(rule.rule, method, sorted(rule.arguments), id=f"{method} {rule.rule}")
            for rule in app.url_map.iter_rules() if rule.endpoint not in ("static", "__flask_sock.socket")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


ROUTES = all_routes()


def snapshot() -> dict:
    """Every row of every table, to prove a refusal wrote nothing."""
    return {model.__name__: sorted(map(repr, model.select().tuples())) for model in TABLES}


def fill(rule: str, arguments, value: str) -> str:
    """The rule with each argument replaced by ``value`` (already percent-encoded)."""
    path = rule
    for name in arguments:
        path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
    return path


def encoded(value: str) -> str:
    """A value as a browser puts it in a URL (a lone surrogate as the bytes it would be)."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


def json_bodies():
    """Raw JSON texts: each hostile value alone, in every field, nested in hubspot, and nested deep."""
    for value in HOSTILE:
        yield json.dumps(value)
        yield json.dumps({field: value for field in JSON_FIELDS}
                         | {"hubspot": {"engagementId": value, "portalId": value, "objectId": value}})
    yield json.dumps({field: 9 ** 500 for field in JSON_FIELDS})   # huge numbers, as numbers
    yield json.dumps({field: 1e308 * 10 for field in JSON_FIELDS}, allow_nan=True)  # Infinity
    yield DEEP_JSON
    yield '{"email": ' + DEEP_JSON + ', "password": "x"}'
    yield '{"phone": "\\ud800", "email": "\\udfff@example.com", "password": "\\u0000"}'
    yield b'{"phone": "\xff\xfe"}'


@pytest.fixture
def app(make_app, database_url):
    """The live app on SQLite and on PostgreSQL: NUL and column sizes only fail on PostgreSQL."""
    return make_app(DATABASE_URL=database_url)


@pytest.fixture
def prepared(app, db, agent, auth_headers, make_call):
    """An agent with a finished call, so routes about a call have one to find."""
    make_call()
    return auth_headers


def assert_refused_cleanly(response, before, route, path=""):
    """No 5xx; a refusal (4xx) answers the contract's error shape and leaves every table as it was."""
    assert response.status_code < 500, (route, response.status_code, response.data[:300])
    if 400 <= response.status_code < 500:
        if response.is_json:
            error = response.get_json()["error"]
            assert error["code"] and error["message"]
        after = snapshot()
        if path == "/api/auth/login" and response.status_code == 401:
            # A wrong password is counted on purpose: that count is the brute-force limit.
            before, after = dict(before, LoginAttempt=None), dict(after, LoginAttempt=None)
        assert after == before, route


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any query
@pytest.mark.parametrize("rule,method,arguments", ROUTES)
def test_hostile_path_and_query_values_never_give_5xx_nor_change_state(client, app, prepared, rule, method,
                                                                        arguments):
    for value in [encoded(v) for v in HOSTILE] + RAW_SEGMENTS:
        path = fill(rule, arguments, value)
        query = "&".join(f"{name}={value}" for name in ("limit", "before", "appId", "token", "code", "state"))
        for url in (path, f"{path}?{query}"):
            before = snapshot()
            response = client.open(url, method=method, headers=prepared, base_url=TEST_SETTINGS["PUBLIC_BASE_URL"])
            assert_refused_cleanly(response, before, f"{method} {url[:80]}")


@pytest.mark.parametrize("rule,method,arguments", [r for r in ROUTES if r.values[1] != "GET"])
def test_hostile_json_bodies_never_give_5xx_nor_change_state(client, app, prepared, rule, method, arguments):
    path = fill(rule, arguments, "1")
    for body in json_bodies():
        before = snapshot()
        response = client.open(path, method=method, data=body, headers={**prepared, "Content-Type": "application/json"},
                               base_url=TEST_SETTINGS["PUBLIC_BASE_URL"])
        assert_refused_cleanly(response, before, f"{method} {path} {body[:60]!r}", path)


@pytest.mark.parametrize("rule,method,arguments", [r for r in ROUTES if r.values[0].startswith("/twilio/")])
def test_hostile_twilio_forms_signed_by_twilio_never_give_5xx(client, app, prepared, rule, method, arguments):
    for value in HOSTILE:
        if "\ud800" in value:
            continue  # a form cannot carry a lone surrogate: UTF-8 has no bytes for it
        for form in ({field: value for field in TWILIO_FIELDS},
                     {field: value for field in TWILIO_FIELDS} | KNOWN_SIDS,
                     {"CallSid": value, "From": f"whatsapp:{value}", "To": f"whatsapp:{value}"},
                     {"CallSid": "CA" + "a" * 32, "From": f"client:{value}", "CallId": value, "To": value},
                     {"MessageSid": value, "From": "whatsapp:+447911123456", "Body": value,
                      "ButtonPayload": "ACCEPTED", "MessageType": "interactive"}):
            url = TEST_SETTINGS["PUBLIC_BASE_URL"] + rule
            headers = {"X-Twilio-Signature": sign(url, form, TEST_SETTINGS["TWILIO_AUTH_TOKEN"])}
            before = snapshot()
            response = client.post(rule, data=form, headers=headers, base_url=TEST_SETTINGS["PUBLIC_BASE_URL"])
            assert_refused_cleanly(response, before, f"{rule} {value[:20]!r}")


@pytest.mark.parametrize("rule,method,arguments", [r for r in ROUTES if r.values[0].startswith("/hubspot/")])
@pytest.mark.parametrize("timestamp", ["²", "9" * 5000, "-1", "", " 1", "1.5"],
                         ids=["superscript", "5000-digits", "negative", "empty", "space", "fraction"])
def test_hostile_hubspot_timestamps_are_refused_not_5xx(client, app, prepared, rule, method, arguments, timestamp):
    path = fill(rule, arguments, "1")
    uri = TEST_SETTINGS["PUBLIC_BASE_URL"] + path
    for signature in (hubspot_v3_signature(TEST_SETTINGS["HUBSPOT_CLIENT_SECRET"], method, uri, "", timestamp),
                      "²", "x" * 5000):
        headers = {"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": timestamp,
                   "X-HubSpot-Signature": signature, "X-HubSpot-Signature-Version": timestamp}
        before = snapshot()
        response = client.open(path, method=method, headers=headers, base_url=TEST_SETTINGS["PUBLIC_BASE_URL"])
        assert_refused_cleanly(response, before, f"{method} {path} ts={timestamp[:10]!r}")


def test_the_corpus_reaches_every_kind_of_route():
    """The URL map really was walked: sign-in, the agent API, both webhooks' families."""
    rules = {param.values[0] for param in ROUTES}
    assert {"/api/auth/login", "/api/calls/initiate", "/twilio/voice", "/hubspot/channel-connection"} <= rules
