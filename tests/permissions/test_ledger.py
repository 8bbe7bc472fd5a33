"""Meta's permission rules across every clock boundary, through the real API, webhooks and ledger."""
import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.helpers import CONTACT_PHONE
from widget_app.core.clock import isoformat, utcnow
from widget_app.models import Call
from widget_app.permissions import ledger as permission_store

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
S, H, DAY, WEEK = timedelta(seconds=1), timedelta(hours=1), timedelta(hours=24), timedelta(days=7)
WINDOW = timedelta(hours=72)  # PERMISSION_WINDOW_HOURS default


@pytest.fixture
def ledger(app, client, agent, headers_for, twilio_messages, messaging_post):
    """Drive one contact's history on a frozen clock: request, reply, calls; read the permission."""
    class Ledger:
        def __init__(self, frozen):
            self.frozen = frozen

        def at(self, offset: timedelta):
            self.frozen.move_to(T0 + offset)

        def request(self):
            return client.post("/api/permissions/request", json={"phone": CONTACT_PHONE}, headers=headers_for(agent))

        def reply(self, payload=None, **fields):
            if payload:  # Twilio's documented answer to the VOICE_CALL_REQUEST button
                fields.update(ButtonPayload=payload, ButtonText="VOICE_CALL_REQUEST", Body="VOICE_CALL_REQUEST",
                              MessageType="interactive")
            response = messaging_post(**fields)
            assert response.status_code == 200
            return response

        def accept_until(self, expires: datetime, permanent=False):
            data = {"type": "call_permission_reply",  # Meta's native interactive object
                    "call_permission_reply": {"response": "accept", "is_permanent": permanent,
                                              "expiration_timestamp": int(expires.timestamp()),
                                              "response_source": "user_action"}}
            return self.reply(MessageType="interactive", InteractiveData=json.dumps(data))

        def call(self, connected: bool, business_initiated=True):
            if connected and business_initiated:  # the daily cap counts answered outbound Call rows
                Call.create(direction="outbound", status="completed", from_number="+442071838750",
                            to_number=CONTACT_PHONE, agent=agent, answered_at=utcnow(), ended_at=utcnow(),
                            duration_seconds=1, missed_counted=True)
            with app.app_context():
                permission_store.record_call_result(CONTACT_PHONE, connected=connected,
                                                    business_initiated=business_initiated)

        def permission(self):
            response = client.get(f"/api/permissions/status/{CONTACT_PHONE}", headers=headers_for(agent))
            assert response.status_code == 200
            return response.json["permission"]

    with freeze_time(T0) as frozen:
        yield Ledger(frozen)


def at(offset):
    return isoformat(T0 + offset)


def run(ledger, steps):
    for offset, action, *args in steps:
        ledger.at(offset)
        if action == "request":
            assert ledger.request().status_code == 202
        elif action == "accept":
            ledger.reply("ACCEPTED")
        elif action == "accept_permanent":
            ledger.accept_until(T0 + args[0] if args else T0, permanent=True)
        elif action == "decline":
            ledger.reply("REJECTED")
        elif action == "accept_until":
            ledger.accept_until(T0 + args[0])
        elif action in ("connected", "missed"):
            ledger.call(connected=action == "connected")
        elif action == "inbound_connected":
            ledger.call(connected=True, business_initiated=False)
        else:
            raise AssertionError(action)


GRANTED = [(0 * H, "request"), (H, "accept")]
MISSES = [(2 * H, "missed"), (3 * H, "missed"), (4 * H, "missed")]
CONNECTED_5 = [(n * H, "connected") for n in range(2, 7)]  # 2 h .. 6 h
CASES = {
    "1 request: 24 h minus 1 s later, no new one": (
        [(0 * H, "request")], DAY - S,
        {"can_request": False, "request_code": "permission_rate_limited", "next_request_at": at(DAY),
         "requests_last_24h": 1, "status": "pending"}),
    "1 request: 24 h plus 1 s later, a reminder may go": (
        [(0 * H, "request")], DAY + S, {"can_request": True, "next_request_at": None, "requests_last_24h": 0}),
    "1 request: exactly 24 h later, allowed": ([(0 * H, "request")], DAY, {"can_request": True}),
    "2 requests: 7 d minus 1 s after the first, no third": (
        [(0 * H, "request"), (DAY, "request")], WEEK - S,
        {"can_request": False, "next_request_at": at(WEEK), "requests_last_7d": 2, "requests_last_24h": 0}),
    "2 requests: 7 d plus 1 s after the first, a third may go": (
        [(0 * H, "request"), (DAY, "request")], WEEK + S, {"can_request": True, "requests_last_7d": 1}),
    "a connected call resets both request limits": (
        [(0 * H, "request"), (DAY, "request"), (DAY + H, "connected")], DAY + 2 * H,
        {"can_request": True, "requests_last_24h": 0, "requests_last_7d": 0}),
    "a connected user-initiated call resets them too": (
        [(0 * H, "request"), (H, "inbound_connected")], 2 * H, {"can_request": True, "requests_last_24h": 0}),
    "a decline: 24 h minus 1 s after it, no request": (
        [(0 * H, "request"), (H, "decline")], DAY + H - S,
        {"status": "denied", "can_request": False, "can_call": False, "next_request_at": at(DAY + H)}),
    "a decline: 24 h plus 1 s after it, ask again": (
        [(0 * H, "request"), (H, "decline")], DAY + H + S, {"status": "denied", "can_request": True}),
    "a grant: 1 s before the window's end, calls allowed": (
        GRANTED, H + WINDOW - S, {"status": "granted", "can_call": True, "expires_at": at(H + WINDOW),
                                  "can_request": False, "request_code": "already_granted"}),
    "a grant: 1 s after the window's end, expired": (
        GRANTED, H + WINDOW + S, {"status": "expired", "can_call": False, "call_code": "permission_required",
                                  "can_request": True}),
    "a reply's earlier expiry: 1 s before it": (
        [(0 * H, "request"), (H, "accept_until", 11 * H)], 11 * H - S,
        {"status": "granted", "can_call": True, "expires_at": at(11 * H)}),
    "a reply's earlier expiry: 1 s after it": (
        [(0 * H, "request"), (H, "accept_until", 11 * H)], 11 * H + S, {"status": "expired", "can_call": False}),
    "a reply's later expiry: our window still ends it": (
        [(0 * H, "request"), (H, "accept_until", 200 * H)], H + WINDOW + S, {"status": "expired", "can_call": False}),
    "a permanent grant does not expire": (
        [(0 * H, "request"), (H, "accept_permanent")], 90 * DAY,
        {"status": "granted", "can_call": True, "permanent": True, "expires_at": None, "next_request_at": None}),
    "3 missed calls in a row keep the grant": (
        GRANTED + MISSES, 5 * H, {"status": "granted", "can_call": True, "consecutive_missed": 3}),
    "the 4th missed call revokes it": (
        GRANTED + MISSES + [(5 * H, "missed")], 6 * H,
        {"status": "revoked", "can_call": False, "call_code": "permission_required", "consecutive_missed": 4}),
    "the 4th missed call revokes even a permanent grant": (
        [(0 * H, "request"), (H, "accept_permanent")] + MISSES + [(5 * H, "missed")], 6 * H,
        {"status": "revoked", "can_call": False}),
    "a connected call resets the missed count": (
        GRANTED + MISSES + [(5 * H, "connected"), (6 * H, "missed"), (7 * H, "missed"), (8 * H, "missed")], 9 * H,
        {"status": "granted", "can_call": True, "consecutive_missed": 3}),
    "4 connected calls: the 5th may go": (GRANTED + CONNECTED_5[:4], 7 * H, {"can_call": True}),
    "5 connected calls: the 6th may not": (
        GRANTED + CONNECTED_5, 7 * H, {"can_call": False, "call_code": "call_limit_reached", "status": "granted"}),
    "5 connected calls: 1 s before the 1st is 24 h old, still not": (
        GRANTED + CONNECTED_5, 2 * H + DAY - S, {"can_call": False, "call_code": "call_limit_reached"}),
    "5 connected calls: once the 1st is 24 h old, the 6th may go": (
        GRANTED + CONNECTED_5, 2 * H + DAY + S, {"can_call": True}),
    "an unanswered request: 1 s before 7 d, still pending": (
        [(0 * H, "request")], WEEK - S, {"status": "pending", "expires_at": at(WEEK)}),
    "an unanswered request: 1 s after 7 d, expired and a new one may go": (
        [(0 * H, "request")], WEEK + S, {"status": "expired", "expires_at": None, "can_request": True}),
}


@pytest.mark.parametrize("steps, check_at, expected", CASES.values(), ids=CASES.keys())
def test_rule_boundaries(ledger, app, steps, check_at, expected):
    run(ledger, steps)
    ledger.at(check_at)
    permission = ledger.permission()
    assert {key: permission[key] for key in expected} == expected
    assert permission["reason"] and permission["request_reason"]
    with app.app_context():  # the check a call makes reads less, and says the same
        verdict = permission_store.call_verdict(CONTACT_PHONE)
    assert (verdict.can_call, verdict.code, verdict.reason) == (
        permission["can_call"], permission["call_code"], permission["reason"])


def test_a_refused_request_says_when_asking_is_possible_again(ledger):
    run(ledger, [(0 * H, "request")])
    ledger.at(DAY - S)
    response = ledger.request()
    assert response.status_code == 429
    assert response.json["error"]["code"] == "permission_rate_limited"
    assert response.json["error"]["retry_at"] == at(DAY)
    ledger.at(DAY)
    assert ledger.request().status_code == 202


def test_a_granted_contact_cannot_be_asked_until_the_grant_ends(ledger):
    run(ledger, GRANTED)
    response = ledger.request()
    assert response.status_code == 409
    assert response.json["error"]["code"] == "already_granted"
    assert response.json["error"]["permission"]["next_request_at"] == at(H + WINDOW)


def test_call_verdict_matches_the_permission(ledger, app):
    run(ledger, GRANTED + CONNECTED_5)
    with app.app_context():
        verdict = permission_store.call_verdict(CONTACT_PHONE)
    assert (verdict.can_call, verdict.code) == (False, "call_limit_reached")
    assert verdict.changes_at == T0 + 2 * H + DAY
    assert "5 connected calls" in verdict.reason


def test_revoke_withdraws_a_grant_with_its_reason(ledger, app):
    run(ledger, GRANTED)
    with app.app_context():
        permission_store.revoke(CONTACT_PHONE, "WhatsApp refused the call (37000).")
    permission = ledger.permission()
    assert (permission["status"], permission["can_call"]) == ("revoked", False)
    assert "37000" in permission["reason"]


def test_the_ledger_on_every_database(make_app, database_url, twilio_messages):
    """Row locking (FOR UPDATE on PostgreSQL), upserts and the rules agree on SQLite and PostgreSQL."""
    from widget_app.agents.accounts import issue_token
    from widget_app.models import Agent
    from widget_app.twilio.signatures import sign

    app = make_app(DATABASE_URL=database_url)
    client = app.test_client()
    with app.app_context():
        from widget_app.models import db
        with db.connection_context():
            agent = Agent.create(email="pg@example.com", name="Pg", password_hash="x")
        with app.test_request_context():
            headers = {"Authorization": f"Bearer {issue_token(agent)}"}
    assert client.post("/api/permissions/request", json={"phone": CONTACT_PHONE}, headers=headers).status_code == 202
    params = {"MessageSid": "SM" + "5" * 32, "From": f"whatsapp:{CONTACT_PHONE}", "MessageType": "interactive",
              "Body": "VOICE_CALL_REQUEST", "ButtonText": "VOICE_CALL_REQUEST", "ButtonPayload": "ACCEPTED"}
    url = app.config["PUBLIC_BASE_URL"] + "/twilio/messaging"
    response = client.post("/twilio/messaging", data=params, base_url=app.config["PUBLIC_BASE_URL"],
                           headers={"X-Twilio-Signature": sign(url, params, app.config["TWILIO_AUTH_TOKEN"])})
    assert response.status_code == 200
    with app.app_context(), db.connection_context():
        for _ in range(4):
            permission_store.record_call_result(CONTACT_PHONE, connected=False)
        assert permission_store.permission_json(CONTACT_PHONE)["status"] == "revoked"
