"""Property (issue 12, item 5): whatever JSON or text arrives at any JSON route, the answer is never
a 5xx. The routes come from the URL map; the bodies from hypothesis."""
import json
import tempfile
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import PUBLIC_BASE_URL, TEST_SETTINGS
from widget_app import create_app

FIELDS = ["phone", "from", "call_id", "engagementId", "objectId", "portalId", "userId", "ownerId", "appId", "notes",
          "outcome", "available", "email", "password", "hubspot"]
# Half the scalars come from the values that broke routes in the attack run, so a few dozen examples
# reach them; the other half is anything.
HOSTILE = st.sampled_from(["²", "\x00", "a\x00b", "\ud800", "\udfff", "9" * 30, "9" * 5000, "+447911123456", "1",
                           2 ** 70])
ANYTHING = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
SCALARS = st.booleans().flatmap(lambda hostile: HOSTILE if hostile else ANYTHING)
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), inner, max_size=5),
                           max_leaves=20)
# Mostly objects holding every field name our routes read (so each value reaches a route's checks), then
# objects with some of them, then any JSON, then any text.
EVERY_FIELD = st.fixed_dictionaries({field: JSON_VALUES for field in FIELDS}).map(json.dumps)
SOME_FIELDS = st.fixed_dictionaries({}, optional={field: JSON_VALUES for field in FIELDS}).map(json.dumps)
BODIES = st.integers(0, 5).flatmap(lambda n: EVERY_FIELD if n < 3 else SOME_FIELDS if n == 3
                                   else JSON_VALUES.map(json.dumps) if n == 4 else st.text(max_size=60))
PATH_VALUES = st.text(min_size=1, max_size=30) | st.sampled_from(["1", "²", "9" * 40, "CA" + "c" * 32])


def json_routes():
    """(rule, method, arguments) of every route that reads a JSON body: POSTs of /api and HubSpot's."""
    with tempfile.TemporaryDirectory(prefix="urlmap-") as scratch:  # the map needs no database
        app = create_app({**TEST_SETTINGS, "INSTANCE_PATH": scratch, "DATABASE_URL": f"sqlite:///{scratch}/map.db"})
    return [pytest.param(rule.rule, method, sorted(rule.arguments), id=f"{method} {rule.rule}")
            for rule in app.url_map.iter_rules() if rule.rule.startswith(("/api/", "/hubspot/"))
            for method in sorted(rule.methods - {"HEAD", "OPTIONS", "GET"})]


ROUTES = json_routes()


def fill(rule: str, arguments, value: str) -> str:
    for name in arguments:
        rule = rule.replace(f"<int:{name}>", value).replace(f"<{name}>", value)
    return rule


def test_there_are_json_routes_to_throw_at():
    assert {"/api/auth/login", "/api/calls/initiate", "/hubspot/channel-connection"} <= {p.values[0] for p in ROUTES}


@pytest.mark.parametrize("rule,method,arguments", ROUTES)
@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=BODIES, path_value=PATH_VALUES)
def test_any_json_or_text_at_a_json_route_is_never_a_5xx(client, auth_headers, rule, method, arguments, body,
                                                          path_value):
    path = fill(rule, arguments, quote(path_value.encode("utf-8", "surrogatepass"), safe=""))
    response = client.open(path, method=method, data=body.encode("utf-8", "surrogatepass"), base_url=PUBLIC_BASE_URL,
                           headers={**auth_headers, "Content-Type": "application/json"})
    assert response.status_code < 500, (path, body[:200], response.data[:300])
