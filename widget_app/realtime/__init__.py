"""Real time: the hub that carries events to agents' sockets (Redis across processes), the events, the /ws socket."""
