"""Validate JSON request bodies in one place, so every endpoint rejects bad input the same way."""
from flask import request

from widget_app.core.errors import DomainError

_MISSING = object()


def json_body(**fields) -> dict:
    """Return the request's JSON object, checked against ``name=type`` or ``name=(type, default)``.

    A field given as ``(type, default)`` is optional. Raises 400 ``invalid_json``,
    ``missing_field`` or ``invalid_field``; never returns a half-checked body.
    """
    data = request.get_json(silent=True, force=True) if request.content_length or request.data else {}
    if data is None:
        raise DomainError("invalid_json", "The request body must be valid JSON.")
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
