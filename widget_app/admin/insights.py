"""Call insights for the admin console: what happened over a date range, in a time zone, team and per agent.

A range is the merge of its local days' summaries (insight_days.py keeps one per zone and day, made
from the calls and permission requests by SQL aggregates and rebuilt when one of them changes), so a
page costs about the same whatever the number of calls. Medians come from histograms of whole seconds (a median needs no
row, only counts per value). Days and weeks are the chosen zone's, DST included.
"""
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from widget_app.admin import insight_days
from widget_app.core.errors import DomainError
from widget_app.core.hours import HoursError, zone
from widget_app.models import Agent

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
    """Every number of the insights page for this query: the merge of its days' summaries."""
    team = AgentRow(None, "Team" if query.agent_id is None else "This agent")
    names = dict(Agent.select(Agent.id, Agent.name).tuples())
    agents: dict = {}

    def row_of(agent_id):
        if agent_id not in agents:
            agents[agent_id] = AgentRow(agent_id, names.get(agent_id, "(nobody)") if agent_id else "(nobody)")
        return agents[agent_id]

    per_period = defaultdict(lambda: dict.fromkeys(OUTCOMES, 0))
    heat = [[0] * 24 for _ in DAYS]
    missed_total = called_back = voicemails_waiting = 0
    histograms = defaultdict(lambda: defaultdict(int))  # (agent, measure) -> {"seconds": calls}, merged as text
    callback_minutes = defaultdict(int)
    for day, summary in sorted(insight_days.fresh(query.tz_name, query.start, query.end).items()):
        voicemails_waiting += summary["voicemails"]  # the team's: a missed call belongs to no agent
        for key, part in summary["agents"].items():
            agent_id = int(key) if key else None
            row = row_of(agent_id)
            for kind, count in part["outcomes"].items():
                row.outcomes[kind] += count
            for step, count in zip(row.funnel, part["funnel"]):  # requests sent this day, by who sent them
                row.funnel[step] += count
            row.inbound_answered += part["answered"]
            row.inbound_missed += part["missed"]
            for measure in ("answer", "talk"):
                merged = histograms[agent_id, measure]
                for value, count in part[measure].items():
                    merged[value] += count
            if query.agent_id is None or agent_id == query.agent_id:
                for value, count in part["callback"].items():
                    callback_minutes[int(value)] += count
                period = per_period[_period_start(day, query.group)]
                for kind, count in part["outcomes"].items():
                    period[kind] += count
                for hour, count in part["hours"].items():
                    heat[day.weekday()][int(hour)] += count
                missed_total += part["missed"]
                called_back += part["called_back"]

    for (agent_id, measure), merged in histograms.items():
        histogram = {int(value): count for value, count in merged.items()}
        setattr(row_of(agent_id), f"{measure}_seconds", defaultdict(int, histogram))

    chosen = [row for agent_id, row in agents.items() if query.agent_id is None or agent_id == query.agent_id]
    for row in chosen:
        for kind, count in row.outcomes.items():
            team.outcomes[kind] += count
        team.inbound_answered += row.inbound_answered
        team.inbound_missed += row.inbound_missed
        for name, value in row.funnel.items():
            team.funnel[name] += value
        for source, target in ((row.answer_seconds, team.answer_seconds), (row.talk_seconds, team.talk_seconds)):
            for value, count in source.items():
                target[value] += count
    return Insights(query, _periods(query, per_period), team,
                    sorted(agents.values(), key=lambda row: (row.agent_id is None, row.name.lower())),
                    heat, missed_total, called_back, dict(callback_minutes), voicemails_waiting)


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
