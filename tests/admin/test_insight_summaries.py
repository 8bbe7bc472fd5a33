"""Insights merge per-day summaries (insight_day) that every change to a call makes stale: the page after a
change shows it, in every zone loaded; old days come from the table; a summary equals a count over the raw
calls (an independent Python oracle below), on SQLite and PostgreSQL, and under concurrent writers."""
import random
import threading
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.admin.conftest import MONDAY, call_row
from widget_app.admin import insight_days
from widget_app.admin.insights import DAYS, OUTCOMES, Query, compute
from widget_app.calls.missed import UNANSWERED
from widget_app.hubspot import worker
from widget_app.models import Agent, Call, InsightDay, InsightStale, PermissionRequest, db

WEEK = Query(date(2026, 3, 2), date(2026, 3, 8))


@pytest.fixture
def app(make_app, database_url):
    return make_app(DATABASE_URL=database_url)


def _outcome(call) -> str:
    if call.answered_at:
        return "connected"
    if call.direction == "inbound" and call.status in UNANSWERED:
        return "missed"
    return {"failed": "failed", "no-answer": "not answered", "busy": "not answered",
            "canceled": "not answered"}.get(call.status, "other")


def _seconds(later, earlier) -> int:
    return int(later.timestamp()) - int(earlier.timestamp())


def _histogram(values) -> dict:
    return {value: values.count(value) for value in set(values)}


def oracle(query: Query) -> dict:
    """The page's numbers counted call by call in Python, from nothing but the call table."""
    first = datetime.combine(query.start, time(), query.tz).astimezone(UTC)  # local midnight to local midnight
    after = datetime.combine(query.end + timedelta(days=1), time(), query.tz).astimezone(UTC)
    calls = [c for c in Call.select() if first <= c.started_at < after]
    mine = [c for c in calls if query.agent_id is None or c.agent_id == query.agent_id]
    periods = {}
    heat = [[0] * 24 for _ in DAYS]
    for call in mine:
        local = call.started_at.astimezone(query.tz)
        key = local.date() - timedelta(days=local.weekday() if query.group == "week" else 0)
        periods.setdefault(key, dict.fromkeys(OUTCOMES, 0))[_outcome(call)] += 1
        if _outcome(call) == "missed":
            heat[local.weekday()][local.hour] += 1
    missed = [c for c in mine if _outcome(c) == "missed"]
    agents = {}
    for agent_id in {c.agent_id for c in calls}:
        theirs = [c for c in calls if c.agent_id == agent_id]
        agents[agent_id] = (
            {kind: sum(_outcome(c) == kind for c in theirs) for kind in OUTCOMES},
            _histogram([max(0, _seconds(c.answered_at, c.started_at)) for c in theirs
                        if c.direction == "inbound" and c.answered_at]),
            _histogram([c.duration_seconds for c in theirs if c.answered_at and c.duration_seconds is not None]))
    return {"periods": {key: counts for key, counts in periods.items() if any(counts.values())},
            "team": {kind: sum(_outcome(c) == kind for c in mine) for kind in OUTCOMES},
            "heat": heat, "missed": len(missed), "called_back": sum(1 for c in missed if c.called_back_at),
            "callback_minutes": _histogram([max(0, _seconds(c.called_back_at, c.started_at) // 60)
                                            for c in missed if c.called_back_at]),
            "voicemails": sum(1 for c in calls if c.direction == "inbound" and c.voicemail_seconds is not None
                              and c.called_back_at is None),
            "agents": agents}


def seen(result) -> dict:
    """The same numbers as the page has them (histograms rather than their medians: every value counts)."""
    return {"periods": {day: counts for _, day, counts in result.periods if any(counts.values())},
            "team": result.team.outcomes, "heat": result.missed_by_hour, "missed": result.missed_total,
            "called_back": result.called_back, "callback_minutes": result.callback_minutes,
            "voicemails": result.voicemails_waiting,
            "agents": {row.agent_id: (row.outcomes, dict(row.answer_seconds), dict(row.talk_seconds))
                       for row in result.agents if row.calls}}


def a_week_of_calls(a, b):
    rows = []
    for day in range(7):
        for k in range(12):
            start = MONDAY + timedelta(days=day, hours=7 + k, minutes=5 * k)
            agent = (a if k % 2 else b).id
            if k % 4 == 0:
                rows.append(call_row(start, "inbound", "no-answer", called_back_after=timedelta(minutes=10 * k)))
            elif k % 4 == 1:
                rows.append(call_row(start, "inbound", "completed", agent, 4 + k, 30 + k))
            elif k % 4 == 2:
                rows.append(call_row(start, "outbound", "completed", agent, 2, 60 + day))
            else:
                rows.append(call_row(start, "outbound", "busy", agent))
    Call.insert_many(rows).execute()


def wednesday_call(k=0):
    """Wednesday's call k of a_week_of_calls: 0 missed and never called back, 1 inbound answered."""
    return Call.select().where(Call.started_at.between(MONDAY + timedelta(days=2), MONDAY + timedelta(days=3))) \
        .order_by(Call.id).offset(k).first()


CHANGES = {
    "status and answer by Model.update()": lambda call: Call.update(
        status="no-answer", answered_at=None, duration_seconds=None).where(Call.id == call.id).execute(),
    "duration by save()": lambda call: setattr(call, "duration_seconds", 999) or call.save(),
    "called back": lambda call: Call.update(called_back_at=call.started_at + timedelta(hours=2))
    .where(Call.id == call.id).execute(),
    "a new call": lambda call: Call.create(**call_row(call.started_at + timedelta(minutes=1), "inbound", "no-answer")),
    "a call deleted": lambda call: Call.delete().where(Call.id == call.id).execute(),
    "moved to another day": lambda call: Call.update(started_at=call.started_at + timedelta(days=2))
    .where(Call.id == call.id).execute(),
}


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_to_a_call_shows_on_the_next_page(team, change):
    a_week_of_calls(*team)
    before = seen(compute(WEEK))
    assert InsightDay.select().where(InsightDay.zone == "UTC").count() == 7
    call = wednesday_call(0 if change == "called back" else 1)
    CHANGES[change](call)
    after = seen(compute(WEEK))
    assert after != before and after == oracle(WEEK)


def test_a_change_rebuilds_the_days_it_touches_in_every_zone_loaded(team):
    a_week_of_calls(*team)
    helsinki, kolkata = (Query(WEEK.start, WEEK.end, zone) for zone in ("Europe/Helsinki", "Asia/Kolkata"))
    for query in (WEEK, helsinki, kolkata):
        compute(query)
    ids = {(row.zone, row.day): row.id for row in InsightDay.select()}
    call = wednesday_call()  # Wednesday 07:00 UTC: Wednesday everywhere
    Call.update(status="canceled").where(Call.id == call.id).execute()
    for query in (WEEK, helsinki, kolkata):
        assert seen(compute(query)) == oracle(query)
    rebuilt = {key for key, row_id in ids.items()
               if InsightDay.get_or_none(InsightDay.zone == key[0], InsightDay.day == key[1]).id != row_id}
    # Helsinki's and Kolkata's Thursday begin on UTC's Wednesday: they overlap the marked UTC day too.
    assert rebuilt == {("UTC", date(2026, 3, 4)), ("Europe/Helsinki", date(2026, 3, 4)),
                       ("Asia/Kolkata", date(2026, 3, 4)), ("Europe/Helsinki", date(2026, 3, 5)),
                       ("Asia/Kolkata", date(2026, 3, 5))}
    assert InsightStale.select().count() == 0


def test_old_days_come_from_the_table_and_only_changed_days_are_counted_again(team, monkeypatch):
    a_week_of_calls(*team)
    counted = []
    real = insight_days._summarise
    monkeypatch.setattr(insight_days, "_summarise", lambda run, tz: counted.append([d for d, _, _ in run])
                        or real(run, tz))
    first = compute(WEEK)
    assert counted == [[WEEK.start + timedelta(days=n) for n in range(7)]]  # one run: one set of queries
    counted.clear()
    assert seen(compute(WEEK)) == seen(first) and counted == []
    Call.update(notes="x").where(Call.id == wednesday_call().id).execute()
    compute(WEEK)
    assert counted == [[date(2026, 3, 4)]]


def test_a_summary_made_by_an_older_version_is_made_again(team):
    a_week_of_calls(*team)
    compute(WEEK)
    InsightDay.update(summary={"v": 0}).execute()
    assert seen(compute(WEEK)) == oracle(WEEK)


call_strategy = st.tuples(
    st.integers(0, 9 * 86400 - 1),  # seconds after 2026-03-24 00:00 UTC: Helsinki's DST change is on the 29th
    st.sampled_from([("inbound", "completed"), ("inbound", "no-answer"), ("inbound", "canceled"),
                     ("outbound", "completed"), ("outbound", "busy"), ("outbound", "failed"), ("inbound", "ringing")]),
    st.sampled_from([None, 0, 1]), st.integers(0, 90), st.integers(0, 400), st.booleans(), st.booleans())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(calls=st.lists(call_strategy, max_size=40), zone=st.sampled_from(["UTC", "Europe/Helsinki", "Asia/Kolkata"]),
       split=st.integers(0, 8), group=st.sampled_from(["day", "week"]))
def test_a_summary_equals_a_count_over_the_raw_calls(team, calls, zone, split, group):
    Call.delete().execute()
    InsightDay.delete().execute()
    base = datetime(2026, 3, 24, tzinfo=UTC)
    rows = []
    for offset, (direction, status), agent, answer, talk, called_back, voicemail in calls:
        start = base + timedelta(seconds=offset, microseconds=offset % 7 * 100000)
        answered = status == "completed"
        row = call_row(start, direction, status, team[agent].id if agent is not None else None,
                       answer if answered else None, talk if answered else None,
                       timedelta(minutes=answer) if called_back and not answered else None)
        row["voicemail_seconds"] = 12 if voicemail and direction == "inbound" else None
        rows.append(row)
    if rows:
        Call.insert_many(rows).execute()
    whole = Query(date(2026, 3, 23), date(2026, 4, 2), zone, group=group)
    compute(Query(date(2026, 3, 23) + timedelta(days=split), date(2026, 3, 27) + timedelta(days=split), zone))
    assert seen(compute(whole)) == oracle(whole)  # some days from the table, the rest counted now
    for agent in team:
        one = Query(whole.start, whole.end, zone, agent.id, group)
        assert seen(compute(one)) == oracle(one)


def test_concurrent_writers_and_page_loads_end_on_the_truth(make_app, postgres_url):
    """PostgreSQL: calls change in threads while pages load (two per zone); no change is lost between a count
    and its mark, and two loads never store the same day (without the refresh lock this fails)."""
    make_app(DATABASE_URL=postgres_url)
    with db.connection_context():
        a_week_of_calls(*(Agent.create(email=f"{name}@example.com", name=name, password_hash="x") for name in "ab"))
        ids = [call.id for call in Call.select(Call.id)]
    errors, stop = [], threading.Event()

    def writer(seed):
        chance = random.Random(seed)
        try:
            with db.connection_context():
                for _ in range(60):
                    with db.atomic():
                        for call_id in sorted(chance.sample(ids, 2)):  # two calls a transaction, in id order
                            Call.update(status=chance.choice(["completed", "no-answer", "busy", "failed"]),
                                        duration_seconds=chance.randint(1, 300),
                                        called_back_at=chance.choice([None, MONDAY + timedelta(days=8)]),
                                        started_at=MONDAY + timedelta(seconds=chance.randint(0, 7 * 86400 - 1))
                                        ).where(Call.id == call_id).execute()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    def reader(zone):
        try:
            with db.connection_context():
                while not stop.is_set():
                    compute(Query(WEEK.start, WEEK.end, zone))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    readers = [threading.Thread(target=reader, args=(zone,)) for zone in ("UTC", "Europe/Helsinki") * 2]
    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    assert errors == []
    with db.connection_context():
        for zone in ("UTC", "Europe/Helsinki"):
            query = Query(WEEK.start, WEEK.end, zone)
            assert seen(compute(query)) == oracle(query)


def test_the_funnel_follows_later_calls_and_changed_requests(team):
    """A request's "called" and "connected" depend on calls days after it: those calls mark the request's day."""
    a, _ = team
    sent_at = MONDAY + timedelta(hours=9)
    request = PermissionRequest.create(phone="+447911123400", agent=a, status="delivered", created_at=sent_at)
    other = PermissionRequest.create(phone="+447911123401", agent=a, status="delivered", created_at=sent_at,
                                     outcome="accepted", answered_at=sent_at, expires_at=sent_at + timedelta(days=7))
    assert compute(WEEK).team.funnel == {"sent": 2, "accepted": 1, "called": 0, "connected": 0}
    PermissionRequest.update(outcome="accepted", answered_at=sent_at + timedelta(minutes=5)) \
        .where(PermissionRequest.id == request.id).execute()
    assert compute(WEEK).team.funnel == {"sent": 2, "accepted": 2, "called": 0, "connected": 0}
    later = Call.create(**call_row(sent_at + timedelta(days=3), "outbound", "ringing", a.id, phone=other.phone))
    assert compute(WEEK).team.funnel == {"sent": 2, "accepted": 2, "called": 1, "connected": 0}
    Call.update(status="completed", answered_at=later.started_at + timedelta(seconds=4)) \
        .where(Call.id == later.id).execute()
    assert compute(WEEK).team.funnel == {"sent": 2, "accepted": 2, "called": 1, "connected": 1}
    Call.delete().where(Call.id == later.id).execute()
    assert compute(WEEK).team.funnel == {"sent": 2, "accepted": 2, "called": 0, "connected": 0}


def test_the_outbox_worker_consumes_the_marks_so_they_do_not_pile_up(app, team):
    """Each call write adds a mark; nobody may open the insights page for months. The worker's minute pass
    consumes them and drops the summaries they touch, so the next page load makes those days again."""
    a_week_of_calls(*team)
    compute(WEEK)
    for status in ("ringing", "in-progress", "completed"):
        Call.update(status=status).where(Call.id == wednesday_call(1).id).execute()
    assert InsightStale.select().count() >= 3
    assert worker.forget_changed_days(app) >= 3
    assert InsightStale.select().count() == 0
    assert not InsightDay.select().where(InsightDay.zone == "UTC", InsightDay.day == date(2026, 3, 4)).exists()
    assert seen(compute(WEEK)) == oracle(WEEK)
