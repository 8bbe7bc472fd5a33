"""Validate JSON request bodies in one place, so every endpoint rejects bad input the same way.

Hostile JSON is refused here, before any feature sees it: nesting deeper than ``MAX_DEPTH`` (5000
brackets make the parser raise RecursionError), numbers that are not finite or too long for
``int()``, and text no column can hold (NUL, unpaired surrogates), in keys and values alike.
"""
import json
import math

from flask import request

from widget_app.core.errors import DomainError
from widget_app.core.text import is_storable

_MISSING = object()
MAX_DEPTH = 16  # our bodies nest two levels; HubSpot's and the demo's three


def _not_finite(constant: str):
    """``NaN`` and ``Infinity`` are not JSON, whatever Python's parser allows by default."""
    raise ValueError(f"{constant} is not a JSON number")


def _check(data):
    """Walk the document without recursion: bounded depth, and only storable text."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DomainError("invalid_json", f"The request body nests deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            if not all(is_storable(key) for key in value):
                raise DomainError("invalid_json", "The request body holds text with NUL or unpaired surrogates.")
            stack += [(item, depth + 1) for item in value.values()]
        elif isinstance(value, list):
            stack += [(item, depth + 1) for item in value]
        elif isinstance(value, str) and not is_storable(value):
            raise DomainError("invalid_json", "The request body holds text with NUL or unpaired surrogates.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise DomainError("invalid_json", "The request body holds a number out of range.")


def parsed_body():
    """The request's JSON document (``{}`` when there is no body), checked; 400 ``invalid_json`` otherwise."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_not_finite)
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: deep nesting
        raise DomainError("invalid_json", "The request body must be valid JSON.") from None
    _check(data)
    return data


def json_body(**fields) -> dict:
    """Return the request's JSON object, checked against ``name=type`` or ``name=(type, default)``.

    A field given as ``(type, default)`` is optional. Raises 400 ``invalid_json``,
    ``missing_field`` or ``invalid_field``; never returns a half-checked body.
    """
    data = parsed_body()
    if not isinstance(data, dict):
        raise DomainError("invalid_json", "The request body must be a JSON object.")
    out = {}
    for name, spec in fields.items():
        kind, default = spec if isinstance(spec, tuple) else (spec, _MISSING)
        value = data.get(name, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                raise DomainError("missing_field", f"The field '{name}' is required.", field=name)
            out[name] = default
            continue
        if kind is int and isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
            value = int(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            expected = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            raise DomainError("invalid_field", f"The field '{name}' must be of type {expected}.", field=name)
        out[name] = value
    return out
