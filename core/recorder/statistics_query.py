"""Statistics queries on the read-only connection: 5-minute and hourly rows, local days, months.

Days and months follow the site's time zone (a day in Asia/Shanghai starts at 16:00 UTC) and
are rolled up from hourly rows when every local boundary falls on a whole UTC hour, otherwise
from 5-minute rows (zones such as Asia/Kolkata at +05:30). `change` is a meter's consumption
in the period: its `sum` at the end less its `sum` at the end of the period before.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from plantpulse.core.recorder.const import HOUR_SECONDS, IN_CHUNK, SHORT_TERM_SECONDS
from plantpulse.core.recorder.history import async_fetch_chunked
from plantpulse.core.recorder.statistics_math import PeriodValues, roll_up

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

STATISTIC_TYPES: Final = ("mean", "min", "max", "sum", "state", "change")

_ROWS_SQL: Final = (
    "SELECT metadata_id, start_s, mean, min, max, sum, state, meter_ref FROM {table} "
    "WHERE metadata_id IN ({{}}) AND start_s >= ? AND start_s < ? ORDER BY metadata_id, start_s"
)
_SUM_BEFORE_SQL: Final = (
    "SELECT sm.id, t.sum FROM statistics_meta sm JOIN {table} t ON t.metadata_id = sm.id "
    "AND t.start_s = (SELECT MAX(start_s) FROM {table} WHERE metadata_id = sm.id "
    "AND start_s < ?) WHERE sm.id IN ({{}})"
)


class Period(StrEnum):
    """Statistics periods a query may ask for."""

    FIVE_MINUTE = "5minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


_TABLES: Final = {SHORT_TERM_SECONDS: "statistics_short_term", HOUR_SECONDS: "statistics"}


class StatisticsReader:
    """Answers statistics queries."""

    def __init__(self, hub: Hub, conn: aiosqlite.Connection) -> None:
        self._hub = hub
        self._conn = conn

    async def async_get_statistics(
        self,
        statistic_ids: Sequence[str],
        period: str,
        start: datetime,
        end: datetime | None,
        types: set[str] | None,
    ) -> dict[str, list[dict[str, Any]]]:
        """See Recorder.async_get_statistics. Raises ValueError for an unknown period/type."""
        try:
            chosen = Period(period)
        except ValueError:
            raise ValueError(f"unknown statistics period {period!r}: use one of "
                             f"{', '.join(item.value for item in Period)}") from None
        wanted = tuple(STATISTIC_TYPES) if types is None else tuple(
            kind for kind in STATISTIC_TYPES if kind in types
        )
        unknown = set(types or ()) - set(STATISTIC_TYPES)
        if unknown:
            raise ValueError(f"unknown statistic types {sorted(unknown)}: use "
                             f"{', '.join(STATISTIC_TYPES)}")
        names = await self._async_statistic_names(statistic_ids)
        if not names:
            return {}
        zone = self._hub.site.tz
        start_s = int(_aware(start).timestamp() // 1)
        end_s = int((time.time() if end is None else _aware(end).timestamp()) // 1)
        boundaries: list[int] = []
        if chosen in (Period.FIVE_MINUTE, Period.HOUR):
            step = SHORT_TERM_SECONDS if chosen is Period.FIVE_MINUTE else HOUR_SECONDS
            first_s = start_s - start_s % step
            table = _TABLES[step]
        else:
            step = 0
            boundaries = _local_boundaries(start_s, end_s, chosen, zone)
            if len(boundaries) < 2:
                return {}
            first_s, end_s = boundaries[0], boundaries[-1]
            whole_hours = all(boundary % HOUR_SECONDS == 0 for boundary in boundaries)
            table = _TABLES[HOUR_SECONDS if whole_hours else SHORT_TERM_SECONDS]
        if end_s <= first_s:
            return {}
        ids = sorted(names)
        rows = await async_fetch_chunked(
            self._conn, _ROWS_SQL.format(table=table), ids, after=(first_s, end_s)
        )
        sums_before = dict(await async_fetch_chunked(
            self._conn, _SUM_BEFORE_SQL.format(table=table), ids, before=(first_s,)
        ))
        return await self._hub.async_add_executor_job(
            _shape, names, rows, sums_before, step, boundaries, zone, wanted
        )

    async def _async_statistic_names(self, statistic_ids: Sequence[str]) -> dict[int, str]:
        wanted = list(dict.fromkeys(statistic_ids))
        found: dict[int, str] = {}
        for offset in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[offset:offset + IN_CHUNK]
            found.update(await self._conn.execute_fetchall(
                "SELECT id, statistic_id FROM statistics_meta WHERE statistic_id IN "
                f"({', '.join('?' * len(chunk))})", chunk,
            ))
        return found


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _local_boundaries(start_s: int, end_s: int, period: Period, zone: tzinfo) -> list[int]:
    """Local midnights (of days or of first days of months) from the one at or before `start_s`
    to the first one at or after `end_s`, as POSIX seconds."""
    local = datetime.fromtimestamp(start_s, zone)
    moment = datetime(local.year, local.month, 1 if period is Period.MONTH else local.day,
                      tzinfo=zone)
    boundaries = [int(moment.timestamp())]
    while boundaries[-1] < end_s:
        if period is Period.DAY:
            following = moment.date() + timedelta(days=1)
        else:
            following = (moment.replace(day=28) + timedelta(days=4)).replace(day=1).date()
        moment = datetime(following.year, following.month, following.day, tzinfo=zone)
        boundaries.append(int(moment.timestamp()))
    return boundaries


def _shape(
    names: dict[int, str],
    rows: Iterable[tuple[Any, ...]],
    sums_before: dict[int, float | None],
    step: int,
    boundaries: list[int],
    zone: tzinfo,
    wanted: tuple[str, ...],
) -> dict[str, list[dict[str, Any]]]:
    """Group rows into periods and format them (runs in an executor).

    With `step`, periods are UTC-aligned; otherwise they run between consecutive local
    `boundaries`. Every period is labelled in the site's `zone`, so one answer reads in one
    offset.
    """
    grouped: dict[int, dict[int, list[PeriodValues]]] = {}
    for metadata_id, start_s, *values in rows:
        key = start_s if step else bisect_right(boundaries, start_s) - 1
        grouped.setdefault(metadata_id, {}).setdefault(key, []).append(PeriodValues(*values))
    result: dict[str, list[dict[str, Any]]] = {}
    for metadata_id in sorted(grouped, key=lambda mid: names[mid]):
        previous_sum = sums_before.get(metadata_id)
        out = []
        for key, periods in sorted(grouped[metadata_id].items()):
            values = roll_up(periods)
            if values is None:
                continue
            begin_s, end_s = (key, key + step) if step else (boundaries[key], boundaries[key + 1])
            change = None
            if values.sum is not None:
                change = values.sum - (previous_sum or 0.0)
                previous_sum = values.sum
            full = {"mean": values.mean, "min": values.min, "max": values.max,
                    "sum": values.sum, "state": values.state, "change": change}
            full = {kind: _tidy(value) for kind, value in full.items()}
            row: dict[str, Any] = {
                "start": datetime.fromtimestamp(begin_s, zone).isoformat(),
                "end": datetime.fromtimestamp(end_s, zone).isoformat(),
            }
            row.update((kind, full[kind]) for kind in wanted)
            out.append(row)
        if out:
            result[names[metadata_id]] = out
    return result


def _tidy(value: float | None) -> float | None:
    """Drop floating-point noise from sums of many readings (16533.330000001937 -> 16533.33)."""
    return None if value is None else float(f"{value:.12g}")
