"""Everything that talks to HubSpot: REST client, engagement outbox, OAuth, signatures, settings CLI."""
