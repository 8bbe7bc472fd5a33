"""Text a request may carry into a column: no NUL (PostgreSQL refuses it) and no unpaired surrogate
(UTF-8 has no bytes for one). Checked once at the edge, for path, query, form and JSON alike."""
import re

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """True when every character of ``text`` can be stored and sent on as UTF-8."""
    return _UNSTORABLE.search(text) is None
