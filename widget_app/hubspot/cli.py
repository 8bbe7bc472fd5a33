"""`flask hubspot …` and `flask sync …` commands (CONTRACT §7)."""


def init_app(app):
    """Register the CLI groups (filled in by the HubSpot work)."""
    return None
