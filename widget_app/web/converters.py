"""URL converters: an id in a path is ASCII digits of a bounded length, else the route does not match (404).

Werkzeug's own ``int`` converter hands ``int()`` whatever its regex let through: 5000 digits raise
ValueError inside routing (a 500 before any handler runs), and 40 digits overflow every column.
"""
from werkzeug.routing import BaseConverter

from widget_app.core.ids import MAX_ID_DIGITS


class IdConverter(BaseConverter):
    """``<int:call_id>`` as our ids are: 1 to MAX_ID_DIGITS ASCII digits, handed to the view as an int."""

    regex = rf"[0-9]{{1,{MAX_ID_DIGITS}}}"
    weight = 50

    def to_python(self, value: str) -> int:
        """The id as an int (the regex already bounds its length)."""
        return int(value)

    def to_url(self, value) -> str:
        """An id back into a path segment."""
        return str(int(value))


def init_app(app):
    """Every ``<int:…>`` route of every blueprint (ours and those added later) gets the bounded rule."""
    app.url_map.converters["int"] = IdConverter
