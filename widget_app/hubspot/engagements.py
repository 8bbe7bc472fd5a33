"""The HubSpot outbox: every engagement write is an EngagementSync row first (filled in by issue 7)."""
