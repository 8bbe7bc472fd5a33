"""Insights against generated calls whose answers are known by construction, on SQLite and PostgreSQL.

1,000 calls: 100 a day for 10 days from Monday 2026-03-02, one every 6 minutes from 08:00 UTC.
Call k of a day has a role by k % 10 (so every number below follows from the table):
  0-3 inbound answered after (k%10+1)*5 s, talked 30 s      4 inbound missed, called back after 30 min
  5   inbound missed, never called back                      6-7 outbound connected, 60 or 120 s
  8   outbound not answered                                  9 outbound failed
Agent A takes even k, agent B odd k; missed calls rang nobody who answered (no agent).
"""
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.admin.conftest import MONDAY, call_row
from widget_app.admin import insights
from widget_app.admin.insights import Query, compute, median, parse_query
from widget_app.core.errors import DomainError
from widget_app.models import Call, PermissionRequest


@pytest.fixture
def app(make_app, database_url):
    return make_app(DATABASE_URL=database_url)


def generated_calls(a, b):
    rows = []
    for day in range(10):
        for k in range(100):
            start = MONDAY + timedelta(days=day, hours=8, minutes=6 * k)
            role, agent = k % 10, (a if k % 2 == 0 else b).id
            if role <= 3:
                rows.append(call_row(start, "inbound", "completed", agent, (role + 1) * 5, 30))
            elif role == 4:
                rows.append(call_row(start, "inbound", "no-answer", called_back_after=timedelta(minutes=30)))
            elif role == 5:
                rows.append(call_row(start, "inbound", "no-answer"))
            elif role in (6, 7):
                rows.append(call_row(start, "outbound", "completed", agent, 3, 60 * (role - 5)))
            else:
                rows.append(call_row(start, "outbound", "no-answer" if role == 8 else "failed", agent))
    Call.insert_many(rows).execute()
    return rows


def test_a_thousand_calls_give_the_known_numbers(team):
    a, b = team
    assert len(generated_calls(a, b)) == 1000
    result = compute(Query(date(2026, 3, 2), date(2026, 3, 11)))

    assert [label for label, _, _ in result.periods] == [f"2026-03-{d:02d}" for d in range(2, 12)]
    for _, _, counts in result.periods:
        assert counts == {"connected": 60, "missed": 20, "not answered": 10, "failed": 10, "other": 0}
    assert result.team.outcomes == {"connected": 600, "missed": 200, "not answered": 100, "failed": 100, "other": 0}
    assert result.team.answer_rate == pytest.approx(400 / 600)
    assert result.team.median_answer == 12.5  # 5, 10, 15, 20 s a hundred times each
    assert result.team.median_talk == 30  # 400 at 30 s, 100 at 60 s, 100 at 120 s
    assert (result.missed_total, result.called_back, result.median_callback_minutes) == (200, 100, 30)
    # Two missed calls an hour from 08:00 to 17:00; Mon-Wed come twice in the ten days.
    for weekday, hours in enumerate(result.missed_by_hour):
        expected = 4 if weekday < 3 else 2
        assert hours == [0] * 8 + [expected] * 10 + [0] * 6

    rows = {row.name: row for row in result.agents}
    assert rows["Agent A"].outcomes == {"connected": 300, "missed": 0, "not answered": 100, "failed": 0, "other": 0}
    assert rows["Agent B"].outcomes == {"connected": 300, "missed": 0, "not answered": 0, "failed": 100, "other": 0}
    assert (rows["Agent A"].median_answer, rows["Agent B"].median_answer) == (10, 15)
    assert rows["(nobody)"].outcomes["missed"] == 200 and rows["(nobody)"].answer_rate == 0


def test_one_agent_and_a_part_of_the_range(team):
    a, b = team
    generated_calls(a, b)
    result = compute(Query(date(2026, 3, 3), date(2026, 3, 4), agent_id=b.id))
    assert len(result.periods) == 2
    assert result.team.outcomes == {"connected": 60, "missed": 0, "not answered": 0, "failed": 20, "other": 0}
    assert result.team.median_answer == 15 and result.team.median_talk == 30
    assert result.missed_total == 0


def test_weeks_start_on_monday_in_the_chosen_zone(team):
    a, b = team
    generated_calls(a, b)
    result = compute(Query(date(2026, 3, 2), date(2026, 3, 11), group="week"))
    assert [(label, counts["connected"]) for label, _, counts in result.periods] == \
        [("week of 2026-03-02", 420), ("week of 2026-03-09", 180)]


def test_a_call_at_2330_utc_is_the_next_day_in_helsinki(db, team):
    a, _ = team
    Call.insert_many([call_row(datetime(2026, 3, 2, 23, 30, tzinfo=UTC), "inbound", "no-answer"),
                      call_row(datetime(2026, 3, 2, 21, 59, 59, 900000, tzinfo=UTC), "outbound", "completed", a.id, 1, 5)
                      ]).execute()
    utc = compute(Query(date(2026, 3, 2), date(2026, 3, 3)))
    helsinki = compute(Query(date(2026, 3, 2), date(2026, 3, 3), "Europe/Helsinki"))
    assert [(label, counts["missed"], counts["connected"]) for label, _, counts in utc.periods] == \
        [("2026-03-02", 1, 1), ("2026-03-03", 0, 0)]
    assert [(label, counts["missed"], counts["connected"]) for label, _, counts in helsinki.periods] == \
        [("2026-03-02", 0, 1), ("2026-03-03", 1, 0)]  # 23:59:59.9 Helsinki is still the 2nd
    assert utc.missed_by_hour[0][23] == 1 and helsinki.missed_by_hour[1][1] == 1  # Mon 23:00 UTC, Tue 01:00 local
    # The range itself is local: Helsinki's 3 March starts at 22:00 UTC on the 2nd.
    only_third = compute(Query(date(2026, 3, 3), date(2026, 3, 3), "Europe/Helsinki"))
    assert only_third.team.outcomes["missed"] == 1 and only_third.team.outcomes["connected"] == 0


def test_the_week_of_a_dst_change_takes_each_calls_own_offset(db):
    """Helsinki moves from UTC+2 to UTC+3 at 01:00 UTC on Sunday 29 March 2026."""
    Call.insert_many([
        call_row(datetime(2026, 3, 22, 22, 30, tzinfo=UTC), "inbound", "no-answer"),  # Mon 23 Mar 00:30 (+2)
        call_row(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "inbound", "no-answer"),  # Sun 29 Mar 01:30 (+2)
        call_row(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "inbound", "no-answer"),   # Sun 29 Mar 04:30 (+3)
        call_row(datetime(2026, 3, 29, 21, 30, tzinfo=UTC), "inbound", "no-answer"),  # Mon 30 Mar 00:30 (+3)
    ]).execute()
    result = compute(Query(date(2026, 3, 23), date(2026, 4, 5), "Europe/Helsinki", group="week"))
    assert [(label, counts["missed"]) for label, _, counts in result.periods] == \
        [("week of 2026-03-23", 3), ("week of 2026-03-30", 1)]
    assert (result.missed_by_hour[0][0], result.missed_by_hour[6][1], result.missed_by_hour[6][4]) == (2, 1, 1)
    days = compute(Query(date(2026, 3, 28), date(2026, 3, 30), "Europe/Helsinki"))
    assert [(label, counts["missed"]) for label, _, counts in days.periods] == \
        [("2026-03-28", 0), ("2026-03-29", 2), ("2026-03-30", 1)]


def test_a_half_hour_zone_puts_calls_in_their_local_hour(db):
    """India is UTC+5:30: hour buckets of UTC would put 18:40 UTC (00:10 local) on the wrong day."""
    Call.insert_many([call_row(datetime(2026, 3, 2, 18, 40, tzinfo=UTC), "inbound", "no-answer"),
                      call_row(datetime(2026, 3, 2, 18, 20, tzinfo=UTC), "inbound", "no-answer")]).execute()
    result = compute(Query(date(2026, 3, 2), date(2026, 3, 3), "Asia/Kolkata"))
    assert [counts["missed"] for _, _, counts in result.periods] == [1, 1]
    assert result.missed_by_hour[0][23] == 1 and result.missed_by_hour[1][0] == 1


def test_the_permission_funnel(db, team):
    a, b = team
    at = MONDAY + timedelta(hours=9)

    def request(i, agent, status="sent", outcome=None, answered=None):
        return PermissionRequest.create(phone=f"+4479111234{i:02d}", agent=agent, status=status, outcome=outcome,
                                        created_at=at, answered_at=answered,
                                        expires_at=answered + timedelta(days=3) if answered else None)

    for i in range(10):
        accepted = i < 6
        request(i, a if i < 8 else b, outcome="accepted" if accepted else None,
                answered=at + timedelta(minutes=5) if accepted else None)
    request(20, a, status="failed")  # never reached the contact: not sent
    calls = [call_row(at + timedelta(minutes=10), "outbound", "completed", a.id, 2, 40, phone="+447911123400"),
             call_row(at + timedelta(minutes=10), "outbound", "completed", a.id, 2, 40, phone="+447911123401"),
             call_row(at + timedelta(minutes=10), "outbound", "no-answer", a.id, phone="+447911123402"),
             call_row(at + timedelta(minutes=10), "outbound", "busy", a.id, phone="+447911123403"),
             call_row(at + timedelta(minutes=1), "outbound", "completed", a.id, 2, 40, phone="+447911123404"),  # before
             call_row(at + timedelta(days=4), "outbound", "completed", a.id, 2, 40, phone="+447911123405")]  # expired
    Call.insert_many(calls).execute()
    result = compute(Query(date(2026, 3, 2), date(2026, 3, 2)))
    assert result.team.funnel == {"sent": 10, "accepted": 6, "called": 4, "connected": 2}
    rows = {row.name: row.funnel for row in result.agents}
    assert rows["Agent A"] == {"sent": 8, "accepted": 6, "called": 4, "connected": 2}
    assert rows["Agent B"] == {"sent": 2, "accepted": 0, "called": 0, "connected": 0}
    assert compute(Query(date(2026, 3, 2), date(2026, 3, 2), agent_id=b.id)).team.funnel["sent"] == 2


def test_median_of_a_histogram():
    assert median({}) is None
    assert median({7: 1}) == 7
    assert median({1: 1, 3: 1}) == 2
    assert median({1: 2, 9: 1}) == 1
    assert median({5: 100, 10: 100, 15: 100, 20: 100}) == 12.5


NOW = datetime(2026, 3, 11, 12, tzinfo=UTC)


def test_a_query_from_the_form_defaults_to_the_last_30_days():
    query = parse_query(None, None, None, None, None, NOW)
    assert (query.start, query.end, query.tz_name, query.agent_id, query.group) == \
        (date(2026, 2, 10), date(2026, 3, 11), "UTC", None, "day")
    assert parse_query("2026-03-01", "2026-03-02", "Europe/Helsinki", "7", "week", NOW) == \
        Query(date(2026, 3, 1), date(2026, 3, 2), "Europe/Helsinki", 7, "week")


@pytest.mark.parametrize("start,end,tz,agent,group", [
    ("2026-3-1", None, None, None, None), ("2026-03-05", "2026-03-01", None, None, None),
    ("2024-01-01", "2026-03-01", None, None, None), (None, None, "Mars/Olympus", None, None),
    (None, None, "../../etc/passwd", None, None), (None, None, "x" * 300, None, None),
    (None, None, None, "²", None), (None, None, None, "9" * 40, None), (None, None, None, None, "month")])
def test_a_query_the_form_cannot_mean_is_a_400(start, end, tz, agent, group):
    with pytest.raises(DomainError) as refused:
        parse_query(start, end, tz, agent, group, NOW)
    assert refused.value.code == "invalid_field"


def test_outcome_words_cover_every_outcome():
    assert set(insights.OUTCOME_WORDS) == set(insights.OUTCOMES)


def test_the_page_shows_each_chart_as_svg_with_its_table_and_csv(db, team, admin_console):
    a, b = team
    generated_calls(a, b)
    page = admin_console.get("/admin/insights?start=2026-03-02&end=2026-03-11&tz=Europe/Helsinki")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 3 and 'role="img"' in html
    assert '<strong id="stat-answer-rate">66.7%</strong>' in html and '<strong id="stat-answer-time">12.5 s</strong>' in html
    assert 'id="stat-callbacks">100 of 200<' in html
    for chart in ("daily", "agents", "missed", "funnel"):
        assert f"chart={chart}" in html
    daily = admin_console.get("/admin/insights.csv?chart=daily&start=2026-03-02&end=2026-03-11")
    assert daily.headers["Content-Disposition"] == 'attachment; filename="insights-daily-2026-03-02-2026-03-11.csv"'
    lines = daily.get_data(as_text=True).splitlines()
    assert lines[0] == "day,connected,missed,not answered,failed,other,total"
    assert lines[1:] == [f"2026-03-{d:02d},60,20,10,10,0,100" for d in range(2, 12)]
    missed = admin_console.get("/admin/insights.csv?chart=missed&start=2026-03-02&end=2026-03-11").get_data(as_text=True)
    assert missed.splitlines()[1] == "Mon," + ",".join(["0"] * 8 + ["4"] * 10 + ["0"] * 6)
    agents = admin_console.get("/admin/insights.csv?chart=agents&start=2026-03-02&end=2026-03-11").get_data(as_text=True)
    assert "Agent A,400,300,0,100,0,0,200,0,1.0000,10,30,0,0,0,0" in agents.splitlines()


def test_a_bad_range_or_chart_is_a_400_page(db, admin_console):
    assert admin_console.get("/admin/insights?start=2026-13-01").status_code == 400
    assert admin_console.get("/admin/insights?tz=Nowhere/Land").status_code == 400
    assert admin_console.get("/admin/insights.csv?chart=pie").status_code == 400


def test_voicemails_waiting_counts_the_ranges_voicemails_nobody_called_back(db, team):
    a, _ = team
    voicemail = [call_row(MONDAY + timedelta(hours=h), "inbound", "no-answer") for h in (9, 10, 11)]
    voicemail[1]["called_back_at"] = MONDAY + timedelta(hours=12)  # called back: no longer waiting
    later = call_row(MONDAY + timedelta(days=5), "inbound", "no-answer")  # outside the range
    for row in (*voicemail, later):
        row["voicemail_seconds"] = 23
    plain_miss = call_row(MONDAY + timedelta(hours=13), "inbound", "no-answer")  # no message left
    Call.insert_many([*voicemail, later, plain_miss]).execute()
    assert compute(Query(date(2026, 3, 2), date(2026, 3, 3))).voicemails_waiting == 2
    assert compute(Query(date(2026, 3, 2), date(2026, 3, 3), agent_id=a.id)).voicemails_waiting == 2  # the team's
