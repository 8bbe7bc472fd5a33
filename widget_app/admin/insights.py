"""Call insights for the admin console: what happened over a date range, in a time zone, team and per agent.

Every number comes from SQL aggregates that SQLite and PostgreSQL both run, so the work grows with
the number of groups, not of calls: calls are counted per (start time bucket, direction, outcome),
and medians come from histograms of whole seconds (a median needs no row, only counts per value).
SQL cannot move times into an IANA zone portably, so the buckets are UTC hours (quarter hours for a
zone with a :30 or :45 offset in the range) and Python puts each bucket on its local day, week and
hour: one pass over a few thousand groups. Days and weeks are the chosen zone's, DST included.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from peewee import SQL, Case, PostgresqlDatabase, fn

from widget_app.calls.missed import UNANSWERED
from widget_app.core.errors import DomainError
from widget_app.core.hours import HoursError, zone
from widget_app.models import Agent, Call, PermissionRequest, db

OUTCOMES = ("connected", "missed", "not answered", "failed", "other")
OUTCOME_WORDS = {"connected": "answered and talked", "missed": "inbound nobody answered",
                 "not answered": "outbound the contact did not answer", "failed": "outbound that failed",
                 "other": "still ringing or unknown"}
MAX_DAYS = 366
DEFAULT_DAYS = 30
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*$")


@dataclass(frozen=True)
class Query:
    """What the admin asked: local dates (both included), the zone, one agent or the team, day or week rows."""
    start: date
    end: date
    tz_name: str = "UTC"
    agent_id: int | None = None
    group: str = "day"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in UTC: local midnight of the first day to local midnight after the last."""
        first = datetime.combine(self.start, time(), self.tz).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(), self.tz).astimezone(UTC)
        return first, after


def parse_query(start: str | None, end: str | None, tz_name: str | None, agent: str | None, group: str | None,
                now: datetime) -> Query:
    """The query a form asked for; defaults: the last 30 days to today in UTC, the whole team, per day."""
    tz_name = (tz_name or "UTC").strip()
    if len(tz_name) > 64 or not ZONE_NAME.match(tz_name):
        raise DomainError("invalid_field", "The time zone must be an IANA name such as Europe/Helsinki.", field="tz")
    try:
        tz = zone(tz_name)
    except (HoursError, OSError):
        raise DomainError("invalid_field", "The time zone must be an IANA name such as Europe/Helsinki.",
                          field="tz") from None
    today = now.astimezone(tz).date()
    end_day = _date(end, "end") or today
    start_day = _date(start, "start") or end_day - timedelta(days=DEFAULT_DAYS - 1)
    if start_day > end_day:
        raise DomainError("invalid_field", "The range must start on or before its end.", field="start")
    if (end_day - start_day).days >= MAX_DAYS:
        raise DomainError("invalid_field", f"Choose at most {MAX_DAYS} days.", field="start")
    agent_id = None
    if agent:
        if not (agent.isascii() and agent.isdigit() and len(agent) < 12):
            raise DomainError("invalid_field", "Choose an agent from the list.", field="agent")
        agent_id = int(agent)
    if (group or "day") not in ("day", "week"):
        raise DomainError("invalid_field", "Group by day or week.", field="group")
    return Query(start_day, end_day, tz_name, agent_id, group or "day")


def _date(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError("invalid_field", f"The {name} date must be YYYY-MM-DD.", field=name) from None


# ---- SQL both databases run --------------------------------------------------------------------

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


def _bucket_seconds(query: Query, first: datetime, after: datetime) -> int:
    """An hour, unless the zone is off UTC by a part of an hour somewhere in the range (then 15 minutes)."""
    tz, at = query.tz, first
    while at <= after:
        if at.astimezone(tz).utcoffset().total_seconds() % 3600:
            return 900
        at += timedelta(hours=6)
    return 3600


def _calls(query: Query, first: datetime, after: datetime, whole_team: bool = False):
    condition = (Call.started_at >= first) & (Call.started_at < after)
    if query.agent_id is not None and not whole_team:
        condition &= Call.agent == query.agent_id
    return condition


def _grouped(select, where, positions: int):
    return select.where(where).group_by(*[SQL(str(i)) for i in range(1, positions + 1)]).tuples()


# ---- the numbers -------------------------------------------------------------------------------

@dataclass
class AgentRow:
    agent_id: int | None
    name: str
    outcomes: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    inbound_answered: int = 0
    inbound_missed: int = 0
    answer_seconds: dict = field(default_factory=lambda: defaultdict(int))
    talk_seconds: dict = field(default_factory=lambda: defaultdict(int))
    funnel: dict = field(default_factory=lambda: dict.fromkeys(("sent", "accepted", "called", "connected"), 0))

    @property
    def calls(self) -> int:
        return sum(self.outcomes.values())

    @property
    def answer_rate(self) -> float | None:
        return rate(self.inbound_answered, self.inbound_answered + self.inbound_missed)

    @property
    def median_answer(self) -> float | None:
        return median(self.answer_seconds)

    @property
    def median_talk(self) -> float | None:
        return median(self.talk_seconds)


@dataclass
class Insights:
    query: Query
    periods: list  # [(label, first local date, {outcome: count})] in order, every period of the range
    team: AgentRow
    agents: list  # AgentRow per agent who had calls or sent requests, by name
    missed_by_hour: list  # 7 rows (Mon..Sun) x 24 local hours of missed inbound calls
    missed_total: int
    called_back: int
    callback_minutes: dict  # histogram: whole minutes from the missed call to the callback -> calls
    voicemails_waiting: int = 0  # missed calls in the range that left a voicemail and got no callback yet

    @property
    def callback_rate(self) -> float | None:
        return rate(self.called_back, self.missed_total)

    @property
    def median_callback_minutes(self) -> float | None:
        return median(self.callback_minutes)


def rate(part: int, whole: int) -> float | None:
    return None if not whole else part / whole


def median(histogram: dict) -> float | None:
    """The median of values given as {value: how many}; the mean of the two middle ones for an even count."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted, seen, low = ((total - 1) // 2, total // 2), 0, None
    for value in sorted(histogram):
        count = histogram[value]
        if low is None and seen + count > wanted[0]:
            low = value
        if seen + count > wanted[1]:
            return (low + value) / 2
        seen += count
    return None  # pragma: no cover - the loop always returns for total > 0


def compute(query: Query) -> Insights:
    """Every number of the insights page for this query."""
    first, after = query.utc_bounds()
    size = _bucket_seconds(query, first, after)
    tz, outcome = query.tz, _outcome()
    mine = _calls(query, first, after)
    team = AgentRow(None, "Team" if query.agent_id is None else "This agent")

    # 1. calls per (time bucket, direction, outcome, called back?): days, the heat map, answer rates
    bucket = (_epoch(Call.started_at) / size).alias("bucket")
    called_back = Case(None, [(Call.called_back_at.is_null(False), 1)], 0)
    rows = _grouped(Call.select(bucket, Call.direction, outcome, called_back, fn.COUNT(Call.id)), mine, 4)
    per_period = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    heat = [[0] * 24 for _ in DAYS]
    missed_total = called_back_total = 0
    for slot, direction, kind, back, count in rows:
        local = datetime.fromtimestamp(int(slot) * size, UTC).astimezone(tz)
        per_period[_period_start(local.date(), query.group)][kind] += count
        team.outcomes[kind] += count
        if direction == "inbound" and kind in ("connected", "missed"):
            if kind == "connected":
                team.inbound_answered += count
            else:
                team.inbound_missed += count
                heat[local.weekday()][local.hour] += count
                missed_total += count
                called_back_total += count if back else 0

    # 2. per agent: outcomes and inbound answered/missed (the whole team, whoever is chosen above)
    agents: dict = {}
    names = dict(Agent.select(Agent.id, Agent.name).tuples())

    def row_of(agent_id):
        if agent_id not in agents:
            agents[agent_id] = AgentRow(agent_id, names.get(agent_id, "(nobody)") if agent_id else "(nobody)")
        return agents[agent_id]

    everyone = _calls(query, first, after, whole_team=True)
    for agent_id, direction, kind, count in _grouped(Call.select(Call.agent, Call.direction, outcome,
                                                                 fn.COUNT(Call.id)), everyone, 3):
        row = row_of(agent_id)
        row.outcomes[kind] += count
        if direction == "inbound" and kind == "connected":
            row.inbound_answered += count
        elif direction == "inbound" and kind == "missed":
            row.inbound_missed += count

    # 3. histograms of time to answer (inbound) and talk time, per agent; the team's is their sum
    to_answer = (_epoch(Call.answered_at) - _epoch(Call.started_at)).alias("seconds")
    answered_inbound = everyone & (Call.direction == "inbound") & Call.answered_at.is_null(False)
    for agent_id, seconds, count in _grouped(Call.select(Call.agent, to_answer, fn.COUNT(Call.id)),
                                             answered_inbound, 2):
        row_of(agent_id).answer_seconds[max(0, int(seconds))] += count
    talked = everyone & Call.answered_at.is_null(False) & Call.duration_seconds.is_null(False)
    for agent_id, seconds, count in _grouped(Call.select(Call.agent, Call.duration_seconds, fn.COUNT(Call.id)),
                                             talked, 2):
        row_of(agent_id).talk_seconds[int(seconds)] += count

    # 4. how fast missed calls got their callback (whole minutes)
    minutes = ((_epoch(Call.called_back_at) - _epoch(Call.started_at)) / 60).alias("minutes")
    waited = mine & (Call.direction == "inbound") & Call.answered_at.is_null() & Call.status.in_(UNANSWERED) \
        & Call.called_back_at.is_null(False)
    callback_minutes = defaultdict(int)
    for value, count in _grouped(Call.select(minutes, fn.COUNT(Call.id)), waited, 1):
        callback_minutes[max(0, int(value))] += count

    # 5. the permission funnel, per agent who sent the request
    for agent_id, sent, accepted, called, connected in _funnel(first, after):
        row = row_of(agent_id)
        row.funnel.update(sent=int(sent), accepted=int(accepted or 0), called=int(called or 0),
                          connected=int(connected or 0))

    # 6. voicemails nobody has called back yet (the team's: a missed call belongs to no agent)
    voicemails_waiting = Call.select(fn.COUNT(Call.id)).where(
        everyone & (Call.direction == "inbound") & Call.voicemail_seconds.is_null(False) & Call.called_back_at.is_null()
    ).scalar() or 0

    chosen = [row for agent_id, row in agents.items() if query.agent_id is None or agent_id == query.agent_id]
    for row in chosen:
        for name, value in row.funnel.items():
            team.funnel[name] += value
        for source, target in ((row.answer_seconds, team.answer_seconds), (row.talk_seconds, team.talk_seconds)):
            for value, count in source.items():
                target[value] += count
    return Insights(query, _periods(query, per_period), team,
                    sorted(agents.values(), key=lambda row: (row.agent_id is None, row.name.lower())),
                    heat, missed_total, called_back_total, dict(callback_minutes), voicemails_waiting)


def _funnel(first: datetime, after: datetime):
    """Per agent: requests sent in the range, accepted, followed by an outbound call, and by a connected one."""
    request = PermissionRequest
    follow_up = (Call.to_number == request.phone) & (Call.direction == "outbound") \
        & (Call.created_at >= request.answered_at) \
        & (request.expires_at.is_null() | (Call.created_at <= request.expires_at))
    accepted = request.outcome == "accepted"
    called = fn.EXISTS(Call.select(SQL("1")).where(follow_up))
    connected = fn.EXISTS(Call.select(SQL("1")).where(follow_up & Call.answered_at.is_null(False)))
    return _grouped(request.select(request.agent, fn.COUNT(request.id),
                                   fn.SUM(Case(None, [(accepted, 1)], 0)),
                                   fn.SUM(Case(None, [(accepted & called, 1)], 0)),
                                   fn.SUM(Case(None, [(accepted & connected, 1)], 0))),
                    (request.kind == "request") & request.status.not_in(("failed", "undelivered"))
                    & (request.created_at >= first) & (request.created_at < after), 1)


def _period_start(day: date, group: str) -> date:
    return day - timedelta(days=day.weekday()) if group == "week" else day


def _periods(query: Query, counts: dict) -> list:
    """Every day (or week, from its Monday) of the range in order, empty ones included."""
    periods, day = [], _period_start(query.start, query.group)
    step = timedelta(days=7 if query.group == "week" else 1)
    while day <= query.end:
        label = f"week of {day.isoformat()}" if query.group == "week" else day.isoformat()
        periods.append((label, day, counts.get(day, dict.fromkeys(OUTCOMES, 0))))
        day += step
    return periods
