"""Helpers the browser tests share that are not fixtures."""
from tests.helpers import wait_for
from widget_app.models import db as database_proxy


def wait_for_row(read, timeout=10.0):
    """`wait_for` over rows a live server's threads write, reading through a fresh connection each time."""
    def fresh():
        with database_proxy.connection_context():
            return read()
    return wait_for(fresh, timeout)
