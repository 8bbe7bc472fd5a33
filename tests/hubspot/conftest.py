"""Fixtures for the HubSpot package's tests: an application context, and the client's waits recorded."""
import pytest


@pytest.fixture
def app_ctx(app, db):
    """An application context around the test, as a request or the worker thread has."""
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def hubspot_sleeps(app):
    """The HubSpot client's waits (429, backoff) are recorded here instead of slept."""
    waits = []
    app.extensions["hubspot_sleep"] = waits.append
    return waits
