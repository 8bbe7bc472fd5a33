"""Fixtures for the real-time tests: an app served on a real port (the test client cannot speak WebSocket)."""
import contextlib

import pytest

from tests.helpers import free_port, running_in_thread


@pytest.fixture
def serve_app():
    """Serve an app on 127.0.0.1 in a thread; returns its "host:port"."""
    from werkzeug.serving import make_server

    with contextlib.ExitStack() as servers:
        def serve(app):
            port = free_port()
            servers.enter_context(running_in_thread(make_server("127.0.0.1", port, app, threaded=True)))
            return f"127.0.0.1:{port}"
        yield serve
