"""HubSpot: the REST client and the portals it serves, contacts, the outbox that writes every call to the timeline
exactly once, recordings, request signatures, the install and webhook routes, and `flask hubspot|sync`."""
