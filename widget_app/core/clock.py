"""The one place the application reads the time, so tests can move it (freezegun)."""
from datetime import UTC, datetime


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Databases hand datetimes back naive; every stored datetime is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def isoformat(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing Z, the shape every JSON answer uses."""
    value = as_utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if value else None


def parse_isoformat(text: str) -> datetime:
    """The inverse of ``isoformat``: an aware UTC datetime (a time without a zone is taken as UTC)."""
    return as_utc(datetime.fromisoformat(text.strip()))
