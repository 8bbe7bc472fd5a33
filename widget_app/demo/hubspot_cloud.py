"""Demo mode's HubSpot cloud: answers our real REST calls in-process with HubSpot-shaped JSON.

Mounted as a requests transport adapter on the client's session for HUBSPOT_API_BASE, so the
client, the outbox and the worker run exactly as in live mode. Its records live in app.extensions:
they are the simulated cloud's data, not routing state.

It behaves as HubSpot does where that matters to us: call properties are validated against
HubSpot's allowed values (400 VALIDATION_ERROR, reference §6.2), the calls search sees a write only
after a moment (HubSpot's index lags), and it answers 429 or 5xx when the simulator tells it to.
"""
import itertools
import json
import re
import threading
import time
from urllib.parse import urlparse

from requests.adapters import BaseAdapter
from requests.models import Response

from widget_app.core.clock import isoformat, utcnow
from widget_app.hubspot.engagements import CALL_OUTCOMES
from widget_app.hubspot.urls import HubSpotPaths

DEMO_CONTACT = {"id": "1001", "firstname": "Dana", "lastname": "Demo", "email": "dana.demo@example.com",
                "phone": "+447400123456", "mobilephone": None, "hubspot_owner_id": "789"}
DEMO_PORTAL_ID = 123  # the simulator's portal (static/js/simulator.js), the demo token's own
DEMO_CONTACT_PHONE = DEMO_CONTACT["phone"]  # "Dana Demo": the simulator's WhatsApp contact
DEMO_OWNER = {"id": "789", "email": "demo@example.com", "firstName": "Demo", "lastName": "Agent", "userId": 456,
              "userIdIncludingInactive": 456, "type": "PERSON", "archived": False,
              "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z", "teams": []}


# The enumerations HubSpot enforces on the calls object (reference §1.2; MISSED as seen on inbound calls).
ALLOWED_VALUES = {
    "hs_call_status": {"BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED",
                       "IN_PROGRESS", "MISSED", "NO_ANSWER", "QUEUED", "RINGING"},
    "hs_call_direction": {"INBOUND", "OUTBOUND"},
    "hs_call_disposition": {outcome["id"] for outcome in CALL_OUTCOMES},
}
SEARCH_LAG_SECONDS = 1.0  # how long a write stays invisible to the calls search
FAULTS = {
    429: ({"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
           "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING", "groupName": "publicapi:app"},
          {"X-HubSpot-RateLimit-Interval-Milliseconds": "10000", "X-HubSpot-RateLimit-Max": "100",
           "X-HubSpot-RateLimit-Remaining": "0"}),
    500: ({"status": "error", "message": "internal error", "category": "INTERNAL_ERROR"}, {}),
    502: ({"status": "error", "message": "Bad Gateway", "category": "BAD_GATEWAY"}, {}),
    503: ({"status": "error", "message": "Service Unavailable", "category": "SERVICE_UNAVAILABLE"}, {}),
}
CORRELATION_ID = "00000000-0000-4000-8000-000000000000"


class DemoCloud:
    """HubSpot's side: the calls it holds and the one demo contact and owner."""

    def __init__(self, version: str, search_lag: float = SEARCH_LAG_SECONDS, clock=time.monotonic):
        self.paths = HubSpotPaths(version)  # it answers only the API version the app calls, as HubSpot would
        self.calls, self.lock, self.ids = {}, threading.Lock(), itertools.count(50000001)
        self.search_lag, self.clock = search_lag, clock
        self.indexed_at = {}  # call id -> when the calls search starts to see it
        self.tasks = {}  # follow-up tasks of missed calls (issue 15)
        self.faults = []  # statuses the next requests answer, one each (the simulator's "fail next")

    def fail_next(self, status: int, count: int = 1):
        """The next ``count`` requests answer ``status`` (429, 500, 502 or 503) as HubSpot words it."""
        with self.lock:
            self.faults.extend([status] * count)

    def record(self, call_id, properties):
        now = isoformat(utcnow())
        with self.lock:
            current = self.calls.setdefault(call_id, {"id": call_id, "properties": {"hs_createdate": now},
                                                      "createdAt": now, "archived": False})
            current["properties"].update(properties, hs_object_id=call_id, hs_lastmodifieddate=now)
            current["updatedAt"] = now
            self.indexed_at.setdefault(call_id, self.clock() + self.search_lag)
            return json.loads(json.dumps(current))

    def handle(self, method, path, body):
        """One REST call: (status, JSON body) or (status, body, headers)."""
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            answer, headers = FAULTS[fault]
            return fault, {**answer, "correlationId": CORRELATION_ID}, headers
        paths = self.paths
        if path.startswith(paths.calls) and method in ("POST", "PATCH") and \
                not path.endswith("/search") and (invalid := _invalid(body.get("properties") or {})):
            return 400, invalid
        if method == "POST" and path == paths.calls:
            return 201, self.record(str(next(self.ids)), body.get("properties") or {})
        if method == "POST" and path == paths.calls_search:
            wanted = {f["value"] for g in body.get("filterGroups", []) for f in g.get("filters", [])
                      if f.get("propertyName") == "hs_call_external_id"}
            with self.lock:
                now = self.clock()
                found = [c for c in self.calls.values() if c["properties"].get("hs_call_external_id") in wanted
                         and self.indexed_at.get(c["id"], 0) <= now]
            return 200, {"total": len(found), "results": found}
        if match := re.fullmatch(re.escape(paths.calls) + r"/(\d+)", path):
            if method == "PATCH":
                return 200, self.record(match.group(1), body.get("properties") or {})
            with self.lock:
                call = self.calls.get(match.group(1))
            return (200, call) if call else _not_found(path)
        if path.startswith(paths.tasks):
            return self.handle_task(method, path, body)
        if method == "POST" and path == paths.recordings_ready:
            with self.lock:
                known = str(body.get("engagementId")) in self.calls
            return (204, None) if known else _not_found(path)
        if method == "POST" and path == paths.contacts_search:
            values = {f.get("value") for g in body.get("filterGroups", []) for f in g.get("filters", [])}
            hit = bool(values & {DEMO_CONTACT["phone"], DEMO_CONTACT["phone"][3:]})
            return 200, {"total": int(hit), "results": [_contact()] if hit else []}
        if method == "GET" and path == f"{paths.objects('contacts')}/{DEMO_CONTACT['id']}":
            return 200, _contact()
        if method == "GET" and path == paths.account_details:
            return 200, {"portalId": DEMO_PORTAL_ID, "accountType": "STANDARD", "timeZone": "Europe/London",
                         "companyCurrency": "GBP", "additionalCurrencies": [], "utcOffset": "+00:00",
                         "utcOffsetMilliseconds": 0, "uiDomain": "app.hubspot.com", "dataHostingLocation": "na1"}
        if method == "GET" and path.rstrip("/") == paths.owners:
            return 200, {"results": [DEMO_OWNER]}
        if method == "GET" and path.rstrip("/") in (paths.owner("789"), paths.owner("456")):
            return 200, DEMO_OWNER
        return _not_found(path)


    def handle_task(self, method, path, body):
        """Tasks: create, search by subject (the outbox's look-up after a lost answer), complete."""
        now = isoformat(utcnow())
        with self.lock:
            if method == "POST" and path == self.paths.tasks:
                task_id = str(next(self.ids))
                self.tasks[task_id] = {"id": task_id, "properties": dict(body.get("properties") or {}),
                                       "createdAt": now, "updatedAt": now, "archived": False}
                return 201, self.tasks[task_id]
            if method == "POST" and path == self.paths.tasks_search:
                subjects = {f["value"] for g in body.get("filterGroups", []) for f in g.get("filters", [])
                            if f.get("propertyName") == "hs_task_subject"}
                found = [t for t in self.tasks.values() if t["properties"].get("hs_task_subject") in subjects]
                return 200, {"total": len(found), "results": found}
            match = re.fullmatch(re.escape(self.paths.tasks) + r"/(\d+)", path)
            if method == "PATCH" and match and match.group(1) in self.tasks:
                self.tasks[match.group(1)]["properties"].update(body.get("properties") or {})
                return 200, self.tasks[match.group(1)]
        return _not_found(path)


def _contact():
    props = {k: v for k, v in DEMO_CONTACT.items() if k != "id"}
    return {"id": DEMO_CONTACT["id"], "properties": {**props, "hs_object_id": DEMO_CONTACT["id"]},
            "createdAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-01T00:00:00.000Z", "archived": False}


def _invalid(properties: dict) -> dict | None:
    """HubSpot's 400 for property values outside the allowed options (reference §6.2)."""
    bad = sorted(name for name, allowed in ALLOWED_VALUES.items()
                 if name in properties and properties[name] not in allowed)
    if not bad:
        return None
    return {"status": "error", "category": "VALIDATION_ERROR", "correlationId": CORRELATION_ID,
            "message": "Property values were not valid: " + json.dumps(
                [{"isValid": False, "message": f"{properties[name]} was not one of the allowed options",
                  "error": "INVALID_OPTION", "name": name} for name in bad]),
            "errors": [{"message": f"{properties[name]} was not one of the allowed options", "in": name,
                        "code": "INVALID_OPTION"} for name in bad],
            "context": {"propertyName": bad}}


def _not_found(path):
    return 404, {"status": "error", "message": f"Resource not found: {path}", "category": "OBJECT_NOT_FOUND",
                 "correlationId": "00000000-0000-4000-8000-000000000000"}


class DemoHubSpotAdapter(BaseAdapter):
    """A requests transport that hands each call to the in-process DemoCloud."""

    def __init__(self, app):
        super().__init__()
        lag = float(app.config.get("DEMO_HUBSPOT_SEARCH_LAG", SEARCH_LAG_SECONDS))
        self.cloud = app.extensions.setdefault("hubspot_demo_cloud",
                                               DemoCloud(app.config["HUBSPOT_API_VERSION"], search_lag=lag))

    def send(self, request, **kwargs):
        body = json.loads(request.body) if request.body and request.headers.get("Content-Type", "").startswith(
            "application/json") else {}
        status, answer, *headers = self.cloud.handle(request.method.upper(), urlparse(request.url).path, body)
        response = Response()
        response.headers.update(headers[0] if headers else {})
        response.status_code, response.request, response.url = status, request, request.url
        response._content = b"" if answer is None else json.dumps(answer).encode()
        response.headers["Content-Type"] = "application/json;charset=utf-8"
        response.encoding = "utf-8"
        return response

    def close(self):
        """Nothing to close: no sockets are ever opened."""
