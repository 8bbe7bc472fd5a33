"""Who is calling: a HubSpot contact found by phone number (reference §2.1), cached briefly.

The cache is shared by every process through Redis when REDIS_URL is set (so a worker that did not
look the caller up can still ring from what another one learned), else it is this process's own.
"""
import hashlib
import json
import logging
import threading
import time

import redis
from flask import current_app

from widget_app.core.phone import masked, national_digits
from widget_app.hubspot.client import HubSpotError
from widget_app.hubspot.portals import hubspot_client
from widget_app.hubspot.urls import paths

log = logging.getLogger(__name__)
PROPERTIES = ["firstname", "lastname", "email", "phone", "mobilephone", "hubspot_owner_id"]
CACHE_SECONDS = 60  # only a cache: a contact edited in HubSpot shows up within a minute


class TTLCache:
    """A small per-process cache of answers; never the source of truth for anything."""

    def __init__(self, seconds: float, max_items: int = 1000, clock=time.monotonic):
        self.seconds, self.max_items, self.clock = seconds, max_items, clock
        self._items, self._lock = {}, threading.Lock()

    def get(self, key):
        with self._lock:
            hit = self._items.get(key)
            if hit and hit[0] > self.clock():
                return True, hit[1]
            self._items.pop(key, None)
            return False, None

    def put(self, key, value):
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[key] = (self.clock() + self.seconds, value)

    def clear(self):
        with self._lock:
            self._items.clear()


class SharedCache:
    """The same answers in Redis, for every process; a Redis failure falls back to this process's cache."""

    def __init__(self, redis_url: str, seconds: float, namespace: str = "widget", local: TTLCache | None = None):
        self.seconds, self.local, self.prefix = seconds, local or TTLCache(seconds), f"{namespace}:contact:"
        self.client = redis.Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)

    def _key(self, key) -> str:
        """A digest of portal and number: no phone number in Redis's key space (MONITOR, SCAN, dumps)."""
        return self.prefix + hashlib.sha256("|".join(key).encode()).hexdigest()

    def get(self, key):
        try:
            raw = self.client.get(self._key(key))
        except redis.RedisError as exc:
            log.warning("contact cache: Redis unavailable (%s); using this process's cache", exc.__class__.__name__)
            return self.local.get(key)
        return (False, None) if raw is None else (True, json.loads(raw))

    def put(self, key, value):
        self.local.put(key, value)
        try:
            self.client.set(self._key(key), json.dumps(value), ex=max(1, int(self.seconds)))
        except redis.RedisError as exc:
            log.warning("contact cache: Redis unavailable (%s); cached in this process only", exc.__class__.__name__)

    def clear(self):
        self.local.clear()


def search_body(e164: str) -> dict:
    """ORed filter groups: the number as entered (E.164) or HubSpot's calculated national digits."""
    digits = national_digits(e164)
    groups = [("phone", e164), ("mobilephone", e164), ("hs_searchable_calculated_phone_number", digits),
              ("hs_searchable_calculated_mobile_number", digits)]
    return {"filterGroups": [{"filters": [{"propertyName": name, "operator": "EQ", "value": value}]}
                             for name, value in groups],
            "properties": PROPERTIES, "sorts": [], "limit": 10, "after": "0"}


def contact_json(result: dict) -> dict:
    """The shape the rest of the app uses: id, name, names, email, owner."""
    props = result.get("properties") or {}
    first, last = props.get("firstname") or "", props.get("lastname") or ""
    name = f"{first} {last}".strip() or props.get("email") or None
    return {"id": str(result["id"]), "name": name, "firstname": first or None, "lastname": last or None,
            "email": props.get("email"), "owner_id": props.get("hubspot_owner_id") or None}


def _cache(app):
    """The contact cache of this app: shared through Redis when REDIS_URL is set, else this process's."""
    cache = app.extensions.get("hubspot_contact_cache")
    if cache is None:
        url = app.config.get("REDIS_URL")
        # apps sharing one Redis (tests, benches) keep apart by their realtime channel, as the hub does
        namespace = app.config.get("REALTIME_CHANNEL") or "widget"
        cache = SharedCache(url, CACHE_SECONDS, namespace) if url else TTLCache(CACHE_SECONDS)
        cache = app.extensions.setdefault("hubspot_contact_cache", cache)
    return cache


def cached_contact(e164: str, portal_id=None) -> tuple[bool, dict | None]:
    """What the cache knows of this number without asking HubSpot: (known, contact or None)."""
    return _cache(current_app._get_current_object()).get((str(portal_id or ""), e164))


def find_contact_by_phone(e164: str, portal_id=None, raise_errors: bool = False,
                          budget: float | None = None) -> dict | None:
    """The contact with this number, or None; HubSpot trouble answers None unless ``raise_errors``.

    ``budget`` (seconds) bounds the whole look-up for a caller that cannot wait: one attempt, no retries.
    """
    app = current_app._get_current_object()
    key = (str(portal_id or ""), e164)
    found, value = _cache(app).get(key)
    if found:
        return value
    deadline = None if budget is None else time.monotonic() + budget
    try:
        answer = hubspot_client(portal_id, app=app, deadline=deadline).request(
            "POST", paths(app).contacts_search, json=search_body(e164), idempotent=True)
    except HubSpotError as exc:
        if raise_errors:
            raise
        log.warning("contact search for %s failed: %s", masked(e164), exc)
        return None
    results = answer.get("results") or []
    contact = contact_json(results[0]) if results else None
    _cache(app).put(key, contact)
    return contact
