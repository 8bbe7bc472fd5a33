"""Every HubSpot REST path we call, on one date-based API version (HUBSPOT_API_VERSION, e.g. ``2026-03``).

HubSpot stops supporting its v1-v4 paths in 2027 and says to move straight to date-based versions
(reference: 2026 platform status). Nothing else in the app writes a HubSpot path: a new version is one
setting, and ``tests/hubspot/test_urls.py`` greps the code for any HubSpot path left on v1 to v4.

Associations are written inside the create body (``associations`` with type ids 194 and 204), so no
separate associations path is called. Nor are token/revoke (there is no uninstall command) and
inbound-call (the widget reports inbound calls through the SDK's incomingCall): no path is built for them.
"""
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app


def _segment(value) -> str:
    """An id as exactly one path segment, whatever it holds."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class HubSpotPaths:
    """The paths of one API version; ``paths()`` gives the app's."""
    version: str

    def objects(self, object_type: str) -> str:
        return f"/crm/objects/{self.version}/{object_type}"

    @property
    def calls(self) -> str:
        return self.objects("calls")

    def call(self, engagement_id) -> str:
        return f"{self.calls}/{_segment(engagement_id)}"

    @property
    def calls_search(self) -> str:
        return f"{self.calls}/search"

    @property
    def contacts_search(self) -> str:
        return f"{self.objects('contacts')}/search"

    @property
    def tasks(self) -> str:
        return self.objects("tasks")

    def task(self, task_id) -> str:
        return f"{self.tasks}/{_segment(task_id)}"

    @property
    def tasks_search(self) -> str:
        return f"{self.tasks}/search"

    @property
    def owners(self) -> str:
        return f"/crm/owners/{self.version}"

    def owner(self, owner_id) -> str:
        return f"{self.owners}/{_segment(owner_id)}"

    @property
    def account_details(self) -> str:
        """``{"portalId": …}`` of the token's own portal."""
        return f"/account-info/{self.version}/details"

    def calling_settings(self, app_id, part: str = "") -> str:
        """The calling extension's settings; ``part`` is "", "recording" or "channel-connection"."""
        return f"/crm/extensions/calling/{self.version}/{_segment(app_id)}/settings" + (f"/{part}" if part else "")

    @property
    def recordings_ready(self) -> str:
        return f"/crm/extensions/calling/{self.version}/recordings/ready"

    @property
    def oauth_token(self) -> str:
        return f"/oauth/{self.version}/token"

    @property
    def token_introspect(self) -> str:
        return f"/oauth/{self.version}/token/introspect"


def paths(app=None) -> HubSpotPaths:
    """The paths of the version this app is configured for."""
    return HubSpotPaths((app or current_app).config["HUBSPOT_API_VERSION"])
