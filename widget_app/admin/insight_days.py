"""Insight summaries: one local day's numbers in one zone (InsightDay), so a range is the merge of its days.

Triggers (db.INSIGHT_MARKS) add a row to insight_stale for the UTC day of every call inserted, updated
or deleted, whatever code wrote it, and for the days of the permission requests whose funnel it may
answer (or of a request that changed). `fresh` consumes those marks, drops every
summary (of any zone) whose UTC span touches a marked day, makes the range's missing days from the calls
and stores them. One page load does it at a time: otherwise a load could store a day it computed before
a write whose mark another load had already consumed, and that day would stay wrong.

Calls are counted in SQL the way both databases can: per day of a run of days of equal length (a day
index from the epoch seconds), and missed calls per UTC hour (quarter hour in a zone off by :30 or :45)
that Python puts on its local hour. Histograms count whole seconds (minutes for callbacks).
"""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import SQL, Case, PostgresqlDatabase, fn

from widget_app.calls.missed import UNANSWERED
from widget_app.models import Call, InsightDay, InsightStale, PermissionRequest, db

VERSION = 1  # bump when a summary's shape or meaning changes: older rows are then made again
LOCK_KEY = 0x1A5167  # pg_advisory_xact_lock: one summary refresh at a time, across processes


def bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """A local day as [first, after) in UTC: local midnight to the next local midnight."""
    return (datetime.combine(day, time(), tz).astimezone(UTC),
            datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC))


def _refreshing():
    """Begin the one summary refresh allowed at a time (inside a transaction)."""
    if isinstance(db.obj, PostgresqlDatabase):  # SQLite's BEGIN IMMEDIATE already serialises writers
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        db.execute_sql("SET LOCAL jit = off")  # compiling these small queries took longer than running them


def forget_changed_days() -> int:
    """Consume the stale marks now (the outbox worker does it every minute, so insight_stale stays small
    when nobody opens the insights page); returns how many marks there were."""
    with db.atomic():
        _refreshing()
        return _forget_changed_days()


def fresh(tz_name: str, start: date, end: date) -> dict:
    """{local day: summary} for every day from start to end (both included), each up to date."""
    tz = ZoneInfo(tz_name)
    wanted = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    with db.atomic():
        _refreshing()
        _forget_changed_days()
        rows = (InsightDay.select(InsightDay.day, InsightDay.summary)
                .where((InsightDay.zone == tz_name) & InsightDay.day.between(start, end)))
        have = {row.day: row.summary for row in rows if row.summary.get("v") == VERSION}
        missing = [day for day in wanted if day not in have]
        if missing:
            InsightDay.delete().where((InsightDay.zone == tz_name) & InsightDay.day.in_(missing)).execute()
            made = []
            for run in _runs(missing, tz):
                made += _summarise(run, tz)
            for chunk in range(0, len(made), 100):
                InsightDay.insert_many([{"zone": tz_name, "day": day, "first_utc": first, "after_utc": after,
                                         "summary": summary} for day, first, after, summary
                                        in made[chunk:chunk + 100]]).execute()
            have.update((day, summary) for day, _, _, summary in made)
    return have


def _forget_changed_days():
    """Consume the stale marks and drop every zone's summaries that overlap a marked UTC day.

    Only marks already committed are deleted (and so consumed): their calls' changes are visible to the
    counting that follows. A mark a writer has not committed yet stays for the next page load."""
    if db.returning_clause:
        marks = [day for day, in InsightStale.delete().returning(InsightStale.day).tuples().execute()]
    else:  # SQLite (peewee sends it no RETURNING): inside BEGIN IMMEDIATE nobody writes between the two
        marks = [day for day, in InsightStale.select(InsightStale.day).tuples()]
        InsightStale.delete().execute()
    changed = sorted(set(marks))
    spans = []
    for day in changed:
        first = datetime.combine(day, time(), UTC)
        if spans and spans[-1][1] == first:
            spans[-1][1] = first + timedelta(days=1)
        else:
            spans.append([first, first + timedelta(days=1)])
    for first, after in spans:
        InsightDay.delete().where((InsightDay.first_utc < after) & (InsightDay.after_utc > first)).execute()
    return len(marks)


def _runs(days: list, tz: ZoneInfo):
    """Consecutive days of one length go to the database together (a 23 or 25 hour day goes alone)."""
    run = []
    for day in days:
        first, after = bounds(day, tz)
        if run and (run[-1][0] + timedelta(days=1) != day or run[-1][2] - run[-1][1] != after - first):
            yield run
            run = []
        run.append((day, first, after))
    if run:
        yield run


def _epoch(column):
    """Whole seconds since 1970 of a UTC timestamp column (floored the same way on both databases)."""
    if isinstance(db.obj, PostgresqlDatabase):
        return fn.FLOOR(fn.date_part("epoch", column)).cast("bigint")
    return fn.strftime("%s", column).cast("INTEGER")


def _outcome():
    """A call's outcome class, as a CASE the database evaluates per row."""
    return Case(None, [(Call.answered_at.is_null(False), "connected"),
                       ((Call.direction == "inbound") & Call.status.in_(UNANSWERED), "missed"),
                       (Call.status == "failed", "failed"),
                       (Call.status.in_(("no-answer", "busy", "canceled")), "not answered")], "other")


def _bucket_seconds(tz: ZoneInfo, first: datetime, after: datetime) -> int:
    """An hour, unless the zone is off UTC by a part of an hour somewhere in the span (then 15 minutes)."""
    at = first
    while at <= after:
        if at.astimezone(tz).utcoffset().total_seconds() % 3600:
            return 900
        at += timedelta(hours=6)
    return 3600


def _grouped(select, where, positions: int):
    return select.where(where).group_by(*[SQL(str(i)) for i in range(1, positions + 1)]).tuples()


def _flag(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))


def _summarise(run: list, tz: ZoneInfo) -> list:
    """[(day, first, after, summary)] for a run of days, counted from the calls in a few grouped queries."""
    first, after, length = run[0][1], run[-1][2], int((run[0][2] - run[0][1]).total_seconds())
    base = int(first.timestamp())
    summaries = [{"v": VERSION, "agents": {}, "voicemails": 0} for _ in run]

    def part(index, agent_id):
        return summaries[int(index)]["agents"].setdefault(str(agent_id or ""), {
            "outcomes": {}, "answered": 0, "missed": 0, "called_back": 0, "hours": {}, "answer": {}, "talk": {},
            "callback": {}, "funnel": [0, 0, 0, 0]})

    def count(histogram, value, how_many):
        histogram[str(value)] = histogram.get(str(value), 0) + how_many

    index = ((_epoch(Call.started_at) - base) / length).alias("day")
    calls = (Call.started_at >= first) & (Call.started_at < after)
    missed = (Call.direction == "inbound") & Call.answered_at.is_null() & Call.status.in_(UNANSWERED)
    waiting = (Call.direction == "inbound") & Call.voicemail_seconds.is_null(False) & Call.called_back_at.is_null()
    for day, agent_id, direction, kind, calls_, called_back, voicemails in _grouped(
            Call.select(index, Call.agent, Call.direction, _outcome(), fn.COUNT(Call.id),
                        _flag(Call.called_back_at.is_null(False)), _flag(waiting)), calls, 4):
        row = part(day, agent_id)
        count(row["outcomes"], kind, calls_)
        if direction == "inbound" and kind == "connected":
            row["answered"] += calls_
        elif direction == "inbound" and kind == "missed":
            row["missed"] += calls_
            row["called_back"] += int(called_back)
        summaries[int(day)]["voicemails"] += int(voicemails)

    size = _bucket_seconds(tz, first, after)  # the heat map: missed calls per local hour
    bucket = (_epoch(Call.started_at) / size).alias("bucket")
    for slot, agent_id, calls_ in _grouped(Call.select(bucket, Call.agent, fn.COUNT(Call.id)), calls & missed, 2):
        at = int(slot) * size
        count(part((at - base) // length, agent_id)["hours"], datetime.fromtimestamp(at, UTC).astimezone(tz).hour,
              calls_)

    to_answer = _epoch(Call.answered_at) - _epoch(Call.started_at)
    minutes = (_epoch(Call.called_back_at) - _epoch(Call.started_at)) / 60
    for name, value, where, lowest in (
            ("answer", to_answer, (Call.direction == "inbound") & Call.answered_at.is_null(False), 0),
            ("talk", Call.duration_seconds, Call.answered_at.is_null(False) & Call.duration_seconds.is_null(False),
             None),
            ("callback", minutes, missed & Call.called_back_at.is_null(False), 0)):
        for day, agent_id, amount, calls_ in _grouped(Call.select(index, Call.agent, value, fn.COUNT(Call.id)),
                                                      calls & where, 3):
            amount = int(amount) if lowest is None else max(lowest, int(amount))
            count(part(day, agent_id)[name], amount, calls_)

    for day, agent_id, *steps in _funnel(first, after, base, length):  # by the day each request was sent
        part(day, agent_id)["funnel"] = [int(step or 0) for step in steps]
    return [(day, day_first, day_after, summary) for (day, day_first, day_after), summary in zip(run, summaries)]


def _funnel(first: datetime, after: datetime, base: int, length: int):
    """Per day and agent: requests sent, accepted, followed by an outbound call, and by a connected one.

    One index probe (call by to_number, created_at) per accepted request, none for the others."""
    request = PermissionRequest
    reached = Call.select(fn.MAX(Case(None, [(Call.answered_at.is_null(False), 2)], 1))).where(
        (Call.to_number == request.phone) & (Call.direction == "outbound") & (Call.created_at >= request.answered_at)
        & (request.expires_at.is_null() | (Call.created_at <= request.expires_at)))  # 1: called, 2: connected
    accepted = request.outcome == "accepted"
    sent = (request.select(((_epoch(request.created_at) - base) / length).alias("day"),
                           request.agent.alias("agent_id"), Case(None, [(accepted, 1)], 0).alias("accepted"),
                           Case(None, [(accepted, reached)], 0).alias("reached"))
            .where((request.kind == "request") & request.status.not_in(("failed", "undelivered"))
                   & (request.created_at >= first) & (request.created_at < after)))
    return (sent.select_from(sent.c.day, sent.c.agent_id, fn.COUNT(SQL("*")), fn.SUM(sent.c.accepted),
                             fn.SUM(Case(None, [(sent.c.reached >= 1, 1)], 0)),
                             fn.SUM(Case(None, [(sent.c.reached == 2, 1)], 0)))
            .group_by(sent.c.day, sent.c.agent_id).tuples())
