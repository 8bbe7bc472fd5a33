"""The admin console's fixtures: an admin, and a test client signed in to /admin with its CSRF token."""
import re
from datetime import UTC, datetime, timedelta

import pytest

from widget_app.models import AdminAction

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)  # the insights tests' first day
OURS, THEIRS = "+442071838750", "+447911123456"  # our sender, a contact
ADMIN_EMAIL, ADMIN_PASSWORD = "boss@example.com", "admin password"


class AdminBrowser:
    """A test client signed in to the console; ``post`` sends the session's CSRF token like the forms do."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def sign_in(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
        response = self.client.post("/admin/signin", data={"email": email, "password": password})
        if response.status_code == 302:
            self.csrf = csrf_of(self.client.get("/admin/agents").get_data(as_text=True))
        return response

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, csrf=True):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf)
        return self.client.post(path, data=data)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def team(db, make_agent):
    """Two agents whose calls the insights tests count."""
    return make_agent(email="a@example.com", name="Agent A"), make_agent(email="b@example.com", name="Agent B")


@pytest.fixture
def admin(make_agent):
    return make_agent(email=ADMIN_EMAIL, name="Bea Boss", password=ADMIN_PASSWORD, role="admin")


@pytest.fixture
def console(client, admin, http_mock):
    """The console signed in as an admin; HubSpot is mocked at its URLs (an unmocked request fails, never leaves)."""
    browser = AdminBrowser(client)
    assert browser.sign_in().status_code == 302
    return browser


def actions() -> list[tuple[str, str, str | None]]:
    """The audit log as (who, what, target), oldest first."""
    return [(a.admin_email, a.action, a.target) for a in AdminAction.select().order_by(AdminAction.id)]


@pytest.fixture
def admin_console(client, make_agent):
    """The console signed in as an admin, for tests that make their own app (another database)."""
    make_agent(email=ADMIN_EMAIL, name="Bea Boss", password=ADMIN_PASSWORD, role="admin")
    browser = AdminBrowser(client)
    assert browser.sign_in().status_code == 302
    return browser


def call_row(start, direction, status, agent=None, answered_after=None, duration=None, called_back_after=None,
             phone=THEIRS):
    """A row for Call.insert_many: a call at ``start``, answered and called back after the given times."""
    inbound = direction == "inbound"
    return {"direction": direction, "status": status, "from_number": phone if inbound else OURS,
            "to_number": OURS if inbound else phone, "agent": agent, "started_at": start, "created_at": start,
            "answered_at": start + timedelta(seconds=answered_after) if answered_after is not None else None,
            "duration_seconds": duration,
            "called_back_at": start + called_back_after if called_back_after else None}
