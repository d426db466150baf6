"""History and statistics through the recorder, with the parameter checks both APIs share."""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core import dt
from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import humanize_invalid
from plantpulse.core.http.view import ApiError
from plantpulse.core.recorder import STATISTIC_TYPES, Period, Recorder, StatisticType, get_recorder

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DEFAULT_SPAN: Final = timedelta(days=1)
_MICROSECOND: Final = timedelta(microseconds=1)
# Float seconds near today hold microseconds to about a quarter: compare with this margin.
_HALF_MICROSECOND: Final = _MICROSECOND.total_seconds() / 2
NO_RECORDER: Final = (
    "The recorder is not set up, so there is no history or statistics: add 'recorder:' to "
    "configuration.yaml and restart the hub."
)


def parse_time(value: str, what: str) -> datetime:
    """An aware datetime from ISO 8601 (no offset means UTC), or ApiError naming `what`."""
    try:
        return dt.parse_datetime(value)
    except (ValueError, TypeError):
        raise ApiError(
            f"Invalid {what} {value!r}: use ISO 8601 such as 2024-05-01T08:00:00+08:00 "
            "(a time without an offset is taken as UTC)."
        ) from None


def parse_entity_ids(value: str | list[str], what: str) -> list[str]:
    """Entity ids from a comma-separated string or a list, or ApiError naming `what`."""
    try:
        return list(dict.fromkeys(cv.entity_ids(value)))
    except vol.Invalid as err:
        raise ApiError(f"Invalid {what}: {humanize_invalid(err)}.") from None


def parse_period(value: str) -> Period:
    """One of 5minute, hour, day, month."""
    try:
        return Period(value)
    except ValueError:
        raise ApiError(f"Invalid period {value!r}: use one of {', '.join(Period)}.") from None


def parse_types(value: str | list[str] | None) -> set[StatisticType] | None:
    """The statistic columns asked for (None: all)."""
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else value
    wanted = {name.strip() for name in names if name.strip()}
    unknown = wanted.difference(STATISTIC_TYPES)
    if unknown:
        raise ApiError(f"Unknown statistic types {', '.join(sorted(unknown))}: use "
                       f"{', '.join(STATISTIC_TYPES)}.")
    return {StatisticType(name) for name in wanted}


def recorder_of(hub: Hub) -> Recorder:
    """The hub's recorder, or ApiError 404 saying how to set it up."""
    if "recorder" not in hub.components:
        raise ApiError(NO_RECORDER, HTTPStatus.NOT_FOUND, "not_found")
    recorder = get_recorder(hub)
    if recorder is None:
        raise ApiError(NO_RECORDER, HTTPStatus.NOT_FOUND, "not_found")
    return recorder


def _check_span(start: datetime, end: datetime | None) -> None:
    if end is not None and end < start:
        raise ApiError(f"The end time {end.isoformat()} is before the start time "
                       f"{start.isoformat()}.")


async def async_history(
    hub: Hub,
    entity_ids: list[str] | None,
    start: datetime,
    end: datetime | None,
    *,
    minimal_response: bool = False,
    no_attributes: bool = False,
    significant_changes_only: bool = False,
    include_start_time_state: bool = True,
    compact: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """States per entity from `start` (the state then first) to `end` or now.

    Without `include_start_time_state` only states recorded from `start` on are listed.
    `compact` asks the recorder for Home Assistant's WebSocket shape (`{s, a, lu, lc}`).
    """
    _check_span(start, end)
    recorder = recorder_of(hub)
    if start > dt.utcnow():
        return {}
    options = {"minimal_response": minimal_response, "no_attributes": no_attributes,
               "significant_changes_only": significant_changes_only, "compact": compact}
    if include_start_time_state:
        return await recorder.async_get_history(entity_ids, start, end, **options)
    # The recorder always starts with the state in effect at the start, timed at the start,
    # like a state recorded exactly then. Asked from a microsecond earlier, that state is timed
    # before the start, so it can be told apart and left out.
    history = await recorder.async_get_history(entity_ids, start - _MICROSECOND, end, **options)
    return {entity_id: kept for entity_id, rows in history.items()
            if (kept := _from_start(rows, start.timestamp()))}


def _from_start(rows: list[dict[str, Any]], start: float) -> list[dict[str, Any]]:
    """Leave out the leading rows timed before `start` (the rows are in time order)."""
    index = 0
    while index < len(rows) and _row_time(rows[index]) < start - _HALF_MICROSECOND:
        index += 1
    return rows[index:]


def _row_time(row: dict[str, Any]) -> float:
    if "lu" in row:
        return float(row["lu"])
    # Rows that minimal_response shortens carry only last_changed.
    return dt.parse_datetime(row.get("last_updated") or row["last_changed"]).timestamp()


async def async_statistics(
    hub: Hub,
    statistic_ids: list[str],
    period: Period,
    start: datetime,
    end: datetime | None,
    types: set[StatisticType] | None,
    *,
    epoch_ms: bool = False,
) -> dict[str, list[dict[str, Any]]]:
    """Statistics rows per statistic id for `period` buckets between `start` and `end`.

    `epoch_ms` asks the recorder for `start` and `end` in milliseconds since the epoch (Home
    Assistant's WebSocket shape) instead of ISO text.
    """
    _check_span(start, end)
    recorder = recorder_of(hub)
    return await recorder.async_get_statistics(statistic_ids, period, start, end, types,
                                               epoch_ms=epoch_ms)
