"""The admin console driven as an admin would (issue 18): sign in, read insights, manage agents, read the
audit log, with axe-core finding no violation on any page."""
import os
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.helpers import axe_violations, png_facts
from widget_app.models import AdminAction, Agent, Call, EngagementSync, Permission, PermissionRequest
from widget_app.models import db as database_proxy

pytestmark = pytest.mark.browser
DAY = datetime(2026, 3, 2, tzinfo=UTC)


def sign_in_admin(page, live_server):
    page.goto(f"{live_server.widget_origin}/admin/")
    page.wait_for_url("**/admin/signin")
    assert axe_violations(page) == []
    page.fill("#email", "demo@example.com")
    page.fill("#password", "demo")
    page.press("#password", "Enter")
    page.wait_for_url("**/admin/insights")


def seed_calls():
    with database_proxy.connection_context():
        demo = Agent.get(Agent.email == "demo@example.com")
        rows = []
        for k in range(40):
            start = DAY + timedelta(hours=8, minutes=10 * k)
            answered = k % 4 != 0
            rows.append({"direction": "inbound", "status": "completed" if answered else "no-answer",
                         "from_number": "+447911123456", "to_number": "+442071838750",
                         "agent": demo.id if answered else None, "started_at": start, "created_at": start,
                         "answered_at": start + timedelta(seconds=8) if answered else None,
                         "duration_seconds": 90 if answered else None,
                         "called_back_at": start + timedelta(minutes=20) if not answered and k % 8 == 0 else None})
        Call.insert_many(rows).execute()


def test_an_admin_reads_insights_and_downloads_their_numbers(page, live_server, tmp_path):
    seed_calls()
    sign_in_admin(page, live_server)
    page.fill("input[name=start]", "2026-03-02")
    page.fill("input[name=end]", "2026-03-02")
    page.fill("input[name=tz]", "Europe/Helsinki")
    page.click("form.filters button")
    page.wait_for_url("**/admin/insights?*")
    assert page.text_content("#stat-calls") == "40"
    assert page.text_content("#stat-answer-rate") == "75.0%"
    assert page.text_content("#stat-answer-time") == "8 s"
    assert page.text_content("#stat-talk-time") == "1 min 30 s"
    assert page.text_content("#stat-callbacks") == "5 of 10"
    assert page.locator("figure.chart svg[role=img]").count() == 3
    row = page.locator("#table-daily tbody tr").first
    assert row.locator("th").text_content() == "2026-03-02"
    assert axe_violations(page) == []

    with page.expect_download() as download:
        page.click("text=Download calls per day as CSV")
    path = tmp_path / "daily.csv"
    download.value.save_as(path)
    assert path.read_text().splitlines()[1] == "2026-03-02,30,10,0,0,0,40"


def test_an_admin_invites_an_agent_who_sets_their_password_then_manages_them(page, live_server, browser):
    sign_in_admin(page, live_server)
    page.click("nav >> text=Agents")
    page.wait_for_url("**/admin/agents")
    assert axe_violations(page) == []
    page.fill("#invite-name", "Cy Caller")
    page.fill("#invite-email", "cy@example.com")
    page.click("form[aria-labelledby=invite-heading] button")
    page.wait_for_selector("#invite-link")
    assert axe_violations(page) == []
    link = page.input_value("#invite-link")
    assert "/admin/set-password#" in link

    # The agent opens the link in a browser of their own (no admin cookie there).
    other = browser.new_context()
    agent_page = other.new_page()
    agent_page.goto(link.replace("https://", "http://"))
    assert "#" not in agent_page.url  # the token left the address bar once it was in the form
    assert axe_violations(agent_page) == []
    agent_page.fill("#new-password", "cy's own password")
    agent_page.fill("#confirm-password", "cy's own password")
    agent_page.click("#set-password button")
    agent_page.wait_for_selector("text=Your password is set")
    assert axe_violations(agent_page) == []
    other.close()

    page.goto(f"{live_server.widget_origin}/admin/agents")
    with database_proxy.connection_context():
        cy = Agent.get(Agent.email == "cy@example.com")
    row = page.locator(f"#agent-{cy.id}")
    row.locator("input[name=owner]").fill("4321")
    row.locator("text=Save owner").click()
    page.wait_for_url("**/admin/agents")
    row = page.locator(f"#agent-{cy.id}")
    row.locator("select[name=role]").select_option("admin")
    row.locator("text=Set role").click()
    page.wait_for_url("**/admin/agents")
    page.locator(f"#agent-{cy.id}").get_by_role("button", name="Disable Cy Caller").click()
    page.wait_for_url("**/admin/agents")
    assert page.locator(f"#agent-{cy.id}").get_by_role("button", name="Enable Cy Caller").is_visible()
    page.locator(f"#agent-{cy.id}").get_by_role("button", name="Unlock Cy Caller").click()
    page.wait_for_selector("text=0 failed sign-ins forgotten")
    assert axe_violations(page) == []
    with database_proxy.connection_context():
        cy = Agent.get_by_id(cy.id)
        assert (cy.hubspot_owner_id, cy.role, cy.active) == ("4321", "admin", False)

    page.click("nav >> text=Audit log")
    page.wait_for_url("**/admin/audit")
    actions = page.locator("#audit tbody tr td:nth-child(3)").all_text_contents()
    assert actions[:7] == ["agent.unlock", "agent.disable", "agent.role", "agent.owner", "agent.password_set",
                           "agent.invite", "admin.signin"]
    assert axe_violations(page) == []
    with database_proxy.connection_context():
        assert AdminAction.select().count() == 7


def test_a_stale_or_missing_link_says_so(page, live_server):
    page.goto(f"{live_server.widget_origin}/admin/set-password")
    assert page.locator("#no-token").is_visible()
    page.goto(f"{live_server.widget_origin}/admin/set-password#not-a-token")
    page.fill("#new-password", "long enough password")
    page.fill("#confirm-password", "long enough password")
    page.click("#set-password button")
    page.wait_for_selector("text=expired or was already used")
    assert axe_violations(page) == []


def test_an_admin_sees_a_failed_hubspot_write_and_retries_it(page, live_server):
    with database_proxy.connection_context():
        demo = Agent.get(Agent.email == "demo@example.com")
        call = Call.create(direction="outbound", status="completed", from_number="+442071838750",
                           to_number="+447911123456", agent=demo, started_at=DAY, answered_at=DAY, duration_seconds=30)
        sync = EngagementSync.create(call=call, payload={"properties": {}}, status="failed", attempts=5,
                                     last_error="HubSpot answered 400: hs_call_title is invalid")
    sign_in_admin(page, live_server)
    page.click("nav >> text=HubSpot")
    page.wait_for_url("**/admin/hubspot")
    assert "hs_call_title is invalid" in page.text_content(f"#sync-{sync.id}")
    assert axe_violations(page) == []
    page.get_by_role("button", name=f"Retry call {call.id}").click()
    page.wait_for_url("**/admin/hubspot")
    with database_proxy.connection_context():
        assert EngagementSync.get_by_id(sync.id).status in ("pending", "done")  # the demo's worker may be quick


def test_an_admin_adds_a_number_with_hours_and_makes_it_the_default(page, live_server):
    sign_in_admin(page, live_server)
    page.click("nav >> text=Numbers")
    page.wait_for_url("**/admin/numbers")
    assert axe_violations(page) == []
    page.fill("#number-e164", "+351211234567")
    page.fill("#number-name", "Lisbon")
    page.click("form[aria-labelledby=h-add-number] button")
    page.wait_for_selector("#number-351211234567")
    lisbon = page.locator("#number-351211234567")
    lisbon.get_by_label("Time zone of +351211234567").fill("Europe/Lisbon")
    lisbon.get_by_label("Hours of +351211234567").fill("mon-fri 09:00-18:00")
    lisbon.get_by_role("button", name="Save hours").click()
    page.wait_for_url("**/admin/numbers")
    page.locator("#number-351211234567").get_by_label("Closed date for +351211234567").fill("2026-12-25")
    page.locator("#number-351211234567").get_by_role("button", name="Add closed date").click()
    page.wait_for_url("**/admin/numbers")
    page.get_by_role("button", name="Make +351211234567 the default").click()
    page.wait_for_url("**/admin/numbers")
    heading = page.text_content("#h-351211234567")
    assert "(default)" in heading
    lisbon = page.locator("#number-351211234567")
    assert "mon 09:00-18:00" in lisbon.text_content() and lisbon.locator(".closed-dates").text_content() == "2026-12-25"
    assert lisbon.locator(".can-call-out").text_content() == "allowed"
    assert axe_violations(page) == []


def test_an_admin_looks_up_a_numbers_permission_ledger(page, live_server):
    with database_proxy.connection_context():
        demo = Agent.get(Agent.email == "demo@example.com")
        PermissionRequest.create(phone="+447911123456", kind="request", agent=demo, status="delivered",
                                 created_at=datetime.now(UTC) - timedelta(hours=1))
        Permission.create(phone="+447911123456", status="pending")  # as the ledger leaves a sent request
    sign_in_admin(page, live_server)
    page.click("nav >> text=Permissions")
    page.wait_for_url("**/admin/permissions")
    assert axe_violations(page) == []
    page.fill("#lookup-phone", "+44 7911 123456")
    page.press("#lookup-phone", "Enter")
    page.wait_for_selector("#timeline")
    assert page.text_content("#permission-status") == "pending"
    assert page.text_content("#can-call") == "not allowed"
    assert "permission request sent" in page.text_content("#timeline")
    assert "+447911123456" not in page.url
    assert axe_violations(page) == []


INSIGHTS_SCREENSHOT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "docs", "insights.png")


def test_the_readme_screenshot_of_the_insights_page(page, live_server, tmp_path):
    """Two weeks of calls with every outcome, shown in Helsinki time: photographed into a temporary
    directory in a normal run, into docs/insights.png under `npm run screenshots` (WIDGET_SCREENSHOTS=1)."""
    with database_proxy.connection_context():
        demo = Agent.get(Agent.email == "demo@example.com")
        statuses = [("inbound", "completed"), ("outbound", "completed"), ("inbound", "no-answer"),
                    ("inbound", "completed"), ("outbound", "no-answer"), ("outbound", "failed"), ("inbound", "completed")]
        rows = []
        for day in range(14):
            for k in range(20 + (day * 7) % 15):
                start = DAY + timedelta(days=day, hours=7 + (k * 5) % 11, minutes=(k * 13) % 60)
                direction, status = statuses[(day + k) % len(statuses)]
                answered = status == "completed"
                rows.append({"direction": direction, "status": status, "from_number": "+447911123456",
                             "to_number": "+442071838750", "agent": demo.id if answered or direction == "outbound" else None,
                             "started_at": start, "created_at": start,
                             "answered_at": start + timedelta(seconds=4 + k % 9) if answered else None,
                             "duration_seconds": 40 + (k * 17) % 300 if answered else None,
                             "called_back_at": start + timedelta(minutes=15 + k) if status == "no-answer" and k % 2 else None})
        Call.insert_many(rows).execute()
    sign_in_admin(page, live_server)
    page.goto(f"{live_server.widget_origin}/admin/insights?start=2026-03-02&end=2026-03-15&tz=Europe/Helsinki")
    assert page.text_content("#stat-calls") == str(len(rows))
    page.set_viewport_size({"width": 1100, "height": 1400})
    picture = INSIGHTS_SCREENSHOT if os.environ.get("WIDGET_SCREENSHOTS") else str(tmp_path / "insights.png")
    page.screenshot(path=picture, full_page=False)
    width, height, values = png_facts(picture)
    assert (width, height) == (1100, 1400)
    assert values > 32, "the picture is blank"
