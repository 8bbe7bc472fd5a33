"""Real-time hub: the /ws socket, a registry per agent, Redis fan-out across processes (CONTRACT §6)."""


def init_app(app):
    """Register the socket route and the fan-out listener (filled in by the inbound work)."""


def notify(agent_ids, message: dict):
    """Deliver ``message`` to every socket of the given agents (None: every connected agent)."""
