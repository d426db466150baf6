"""Date and time helpers: aware UTC everywhere, local time only at the edges."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, tzinfo


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def from_timestamp(timestamp: float) -> datetime:
    """An aware UTC datetime from a POSIX timestamp."""
    return datetime.fromtimestamp(timestamp, UTC)


def now_timestamp() -> float:
    """The current POSIX timestamp."""
    return time.time()


def parse_datetime(value: str) -> datetime:
    """Parse ISO 8601; a time without an offset is taken as UTC. Raises ValueError."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def start_of_local_day(moment: datetime, zone: tzinfo) -> datetime:
    """Midnight of `moment`'s local day in `zone`, as an aware datetime in that zone."""
    local = moment.astimezone(zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def floor_to(timestamp: float, period: timedelta) -> float:
    """Round a timestamp down to a multiple of `period` (UTC-aligned)."""
    step = period.total_seconds()
    return timestamp - (timestamp % step)
