"""The edge check every request passes: path and query text must be storable (no NUL, no unpaired
surrogate), or the request is refused with 400 before any view or query sees it. JSON bodies are
checked by ``web.jsonbody``, Twilio's forms by ``twilio.webhooks``."""
from flask import request

from widget_app.core.text import is_storable
from widget_app.web.errors import HttpError


def _texts():
    """Every piece of text the caller chose in the URL."""
    yield request.path
    for key, value in request.args.items(multi=True):
        yield key
        yield value


def refuse_unstorable_text():
    """400 invalid_request for a NUL or unpaired surrogate anywhere in the path or query."""
    if not all(is_storable(text) for text in _texts()):
        raise HttpError(400, "invalid_request", "The request holds text with NUL or unpaired surrogates.")


def init_app(app):
    """Check every request's URL before anything else reads it."""
    app.before_request(refuse_unstorable_text)
