"""Date and time helpers: aware UTC everywhere, local time only at the edges.

The rule for times given without an offset (API parameters, CSV files): they are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def from_timestamp(timestamp: float) -> datetime:
    """An aware UTC datetime from a POSIX timestamp."""
    return datetime.fromtimestamp(timestamp, UTC)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_datetime(value: str) -> datetime:
    """Parse ISO 8601 into an aware datetime (naive means UTC). Raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
