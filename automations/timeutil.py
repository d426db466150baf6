"""Times of day in the site's time zone: fixed (`"17:00"`) or read from an entity.

An entity gives a time the way Home Assistant's input_datetime does: its state is `HH:MM:SS`
(attribute `has_time` only), `YYYY-MM-DD HH:MM:SS` (`has_date` and `has_time`, a moment) or
`YYYY-MM-DD` (`has_date` only, midnight that day). A timestamp sensor (ISO state with
`device_class: timestamp`) gives a moment too.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.dt import parse_datetime
from plantpulse.core.states import State, valid_entity_id

_TIME_RE: Final = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


def time_of_day(value: Any) -> time:
    """`HH:MM` or `HH:MM:SS` (24-hour clock)."""
    if isinstance(value, time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 17:00 as the sexagesimal number 1020 (17 * 60) and
        # 17:00:00 as 61200; a leading zero (07:00) keeps it a string.
        seconds = value * 60 if value < 24 * 60 else value
        if 0 <= seconds < 24 * 3600:
            return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    match = _TIME_RE.match(cv.string(value).strip())
    if match:
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        if hours < 24 and minutes < 60 and seconds < 60:
            return time(hours, minutes, seconds)
    raise vol.Invalid(f"expected a time of day such as '17:00' or '17:00:00', got {value!r}")


def time_or_entity(value: Any) -> time | str:
    """A time of day, or the id of an entity whose state is one (an input_datetime)."""
    if isinstance(value, str) and "." in value and valid_entity_id(value.strip().lower()):
        return value.strip().lower()
    return time_of_day(value)


def parse_time_state(text: str) -> time | None:
    """The time of day in a state string such as `17:00:00`, or None."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if hours < 24 and minutes < 60 and seconds < 60:
        return time(hours, minutes, seconds)
    return None


def entity_time(state: State | None, zone: ZoneInfo) -> time | datetime | None:
    """What an input_datetime-like entity holds: a daily time, a moment, or None."""
    if state is None:
        return None
    text = state.state.strip()
    attributes = state.attributes
    has_date = attributes.get("has_date")
    has_time = attributes.get("has_time")
    if has_time and not has_date:
        return parse_time_state(text)
    try:
        if has_date and not has_time:
            return datetime.combine(date.fromisoformat(text[:10]), time(), zone)
        if has_date and has_time:
            return datetime.fromisoformat(text).replace(tzinfo=zone)
        if (clock := parse_time_state(text)) is not None:
            return clock
        moment = parse_datetime(text)
    except ValueError:
        return None
    return moment


def next_daily(after: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first moment strictly after `after` whose local time of day is `at`."""
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), at, zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, zone)
    # A time that does not exist on a day clocks go forward falls on the next valid moment.
    return candidate.astimezone(zone)


def in_window(now: time, after: time | None, before: time | None) -> bool:
    """Whether `now` is in [after, before); a window with after > before spans midnight."""
    if after is None and before is None:
        return True
    if after is None:
        return now < before  # type: ignore[operator]
    if before is None:
        return now >= after
    if after <= before:
        return after <= now < before
    return now >= after or now < before
