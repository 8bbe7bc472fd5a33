"""HubSpot's CRM behind `responses` for tests that need its calls and tasks objects to behave like the real
ones: what is created can be searched for and patched, and failures come when a test asks for them."""
import json
import re
import threading
from datetime import datetime

from tests.helpers import HUBSPOT_API

CALLS = f"{HUBSPOT_API}/crm/objects/2026-03/calls"
TASKS = f"{HUBSPOT_API}/crm/objects/2026-03/tasks"
CONTACT_SEARCH = f"{HUBSPOT_API}/crm/objects/2026-03/contacts/search"


def hubspot_object(object_id, properties):
    return {"id": object_id, "properties": {"hs_object_id": object_id, **properties},
            "createdAt": "2026-03-02T10:00:00.000Z", "updatedAt": "2026-03-02T10:00:00.000Z", "archived": False}


class FakeHubSpot:
    """HubSpot's calls and tasks objects behind `responses`: each create really lands (even when the answer
    says otherwise: ``lose_answers``), search finds what landed, and ``fail`` answers the next requests."""

    def __init__(self, http_mock):
        self.records = {"calls": {}, "tasks": {}}
        self.patches = {"calls": [], "tasks": []}
        self.fail = {"calls": [], "tasks": []}  # statuses for the next creates, before anything lands
        self.lose_answers = {"calls": [], "tasks": []}  # statuses answered after the create landed
        self.lock = threading.Lock()
        for kind, base in (("calls", CALLS), ("tasks", TASKS)):
            http_mock.add_callback("POST", base, callback=lambda request, kind=kind: self.create(kind, request))
            http_mock.add_callback("POST", f"{base}/search", callback=lambda request, kind=kind: self.search(kind, request))
            http_mock.add_callback("PATCH", re.compile(re.escape(base) + r"/\d+$"),
                                   callback=lambda request, kind=kind: self.patch(kind, request))
        http_mock.add("POST", CONTACT_SEARCH, json={"total": 0, "results": []})

    def create(self, kind, request):
        with self.lock:
            if self.fail[kind]:
                status = self.fail[kind].pop(0)
                headers = {"Retry-After": "1"} if status == 429 else {}
                return status, headers, json.dumps({"status": "error", "message": "try later", "category": "RATE_LIMITS"})
            body = json.loads(request.body)
            object_id = str((7000 if kind == "tasks" else 9000) + len(self.records[kind]) + 1)
            self.records[kind][object_id] = body
            if self.lose_answers[kind]:
                return self.lose_answers[kind].pop(0), {}, json.dumps({"status": "error", "message": "gateway"})
            return 201, {}, json.dumps(hubspot_object(object_id, body["properties"]))

    def search(self, kind, request):
        groups = json.loads(request.body)["filterGroups"]
        with self.lock:
            found = [hubspot_object(i, r["properties"]) for i, r in self.records[kind].items()
                     if any(all(_matches(r["properties"], f["propertyName"], f["value"]) for f in group["filters"])
                            for group in groups)]
        return 200, {}, json.dumps({"total": len(found), "results": found})

    def patch(self, kind, request):
        object_id = request.url.rsplit("/", 1)[1]
        body = json.loads(request.body)
        with self.lock:
            self.patches[kind].append((object_id, body))
            self.records[kind].setdefault(object_id, {"properties": {}})["properties"].update(body["properties"])
        return 200, {}, json.dumps(hubspot_object(object_id, body["properties"]))

    def tasks(self):
        return list(self.records["tasks"].values())


def _matches(properties, name, value):
    if name == "hs_timestamp":  # HubSpot compares a datetime filter in epoch milliseconds
        return _epoch_ms(properties.get(name)) == str(value)
    return str(properties.get(name)) == str(value)


def _epoch_ms(iso):
    if not iso:
        return None
    return str(int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000))
