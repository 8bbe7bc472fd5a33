"""Ids that arrive as text (HubSpot's numeric ids, our call ids): ASCII digits of a bounded length, or refused.

``"²".isdigit()`` is true and ``int("²")`` fails; a 5000-digit id overflows every column. Every id
from a request goes through here before it reaches a query or a URL.
"""
from widget_app.core.errors import DomainError

MAX_ID_DIGITS = 18  # fits a signed 64-bit column (HubSpot's ids are positive 64-bit numbers)


def is_id(value) -> bool:
    """True for a positive whole number, or a string of 1 to MAX_ID_DIGITS ASCII digits not all zero."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 < value < 10 ** MAX_ID_DIGITS
    return (isinstance(value, str) and 0 < len(value) <= MAX_ID_DIGITS and value.isascii() and value.isdigit()
            and int(value) > 0)


def parse_id(value, field: str) -> str:
    """The id as a canonical digit string, or ``DomainError("invalid_field")`` naming the field."""
    if not is_id(value):
        raise DomainError("invalid_field", f"The field '{field}' must be a positive whole number of at most "
                                           f"{MAX_ID_DIGITS} digits.", field=field)
    return str(int(value))
