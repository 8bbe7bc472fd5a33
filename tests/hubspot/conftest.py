"""Fixtures for the HubSpot package's tests: an application context, and the client's waits recorded."""
import pytest


@pytest.fixture
def app_ctx(app, db):
    """An application context around the test, as a request or the worker thread has."""
    with app.app_context() as ctx:
        yield ctx

