"""Statistics queries on the read-only connection: 5-minute and hourly rows, local days, months.

Days and months follow the site's time zone (a day in Asia/Shanghai starts at 16:00 UTC) and
are rolled up from hourly rows. Where a local midnight is not a whole UTC hour (zones such as
Asia/Kolkata at +05:30), the hour holding it is taken from its 5-minute rows, split at the
midnight; once those are past their retention (keep_5minute_days) the hourly row stands in
and counts with the period its start falls in. `change` is a meter's consumption in the
period: its `sum` at the end less its `sum` at the end of the period before.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from plantpulse.core.recorder.const import (
    HOUR_SECONDS,
    SHORT_TERM_SECONDS,
    STATISTIC_TYPES,
    Period,
    StatisticType,
)
from plantpulse.core.recorder.database import async_fetch_chunked
from plantpulse.core.recorder.statistics_math import PeriodValues, roll_up

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

StatisticsRow = tuple[Any, ...]

_ROWS_SQL: Final = (
    "SELECT metadata_id, start_s, mean, min, max, sum, state, meter_ref FROM {table} "
    "WHERE metadata_id IN ({{}}) AND start_s >= ? AND start_s < ? ORDER BY metadata_id, start_s"
)
_EDGE_ROWS_SQL: Final = (
    "WITH edges (hour_s) AS (VALUES {edges}) "
    "SELECT t.metadata_id, t.start_s, t.mean, t.min, t.max, t.sum, t.state, t.meter_ref "
    "FROM edges JOIN statistics_short_term t ON t.start_s >= edges.hour_s "
    f"AND t.start_s < edges.hour_s + {HOUR_SECONDS} WHERE t.metadata_id IN ({{{{}}}})"
)
_FIRST_SHORT_TERM_SQL: Final = (
    "SELECT metadata_id, MIN(start_s) FROM statistics_short_term WHERE metadata_id IN ({}) "
    "GROUP BY metadata_id"
)
_SUM_BEFORE_SQL: Final = (
    "SELECT sm.id, t.sum FROM statistics_meta sm JOIN {table} t ON t.metadata_id = sm.id "
    "AND t.start_s = (SELECT MAX(start_s) FROM {table} WHERE metadata_id = sm.id "
    "AND start_s < ?) WHERE sm.id IN ({{}})"
)
_EDGES_PER_QUERY: Final = 500

_TABLES: Final = {SHORT_TERM_SECONDS: "statistics_short_term", HOUR_SECONDS: "statistics"}


def parse_period(period: Period | str) -> Period:
    """The Period named, or ValueError listing the periods."""
    try:
        return Period(period)
    except ValueError:
        raise ValueError(f"unknown statistics period {period!r}: use one of "
                         f"{', '.join(Period)}") from None


def parse_types(types: Sequence[StatisticType | str] | set[Any] | None
                ) -> tuple[StatisticType, ...]:
    """The statistic types named (all for None), in row order; ValueError for unknown ones."""
    if types is None:
        return STATISTIC_TYPES
    named = {str(kind) for kind in types}
    unknown = named.difference(STATISTIC_TYPES)
    if unknown:
        raise ValueError(f"unknown statistic types {sorted(unknown)}: use "
                         f"{', '.join(STATISTIC_TYPES)}")
    return tuple(kind for kind in STATISTIC_TYPES if kind in named)


class StatisticsReader:
    """Answers statistics queries."""

    def __init__(self, hub: Hub, conn: aiosqlite.Connection) -> None:
        self._hub = hub
        self._conn = conn

    async def async_get_statistics(
        self,
        statistic_ids: Sequence[str],
        period: Period | str,
        start: datetime,
        end: datetime | None,
        types: Sequence[StatisticType | str] | set[Any] | None,
        *,
        epoch_ms: bool = False,
    ) -> dict[str, list[dict[str, Any]]]:
        """See Recorder.async_get_statistics. Raises ValueError for an unknown period/type."""
        chosen = parse_period(period)
        wanted = parse_types(types)
        names = dict(await async_fetch_chunked(
            self._conn, "SELECT id, statistic_id FROM statistics_meta WHERE statistic_id IN ({})",
            list(dict.fromkeys(statistic_ids)),
        ))
        if not names:
            return {}
        zone = self._hub.site.tz
        start_s = int(_aware(start).timestamp() // 1)
        end_s = int((self._hub.clock.time() if end is None else _aware(end).timestamp()) // 1)
        ids = sorted(names)
        if chosen in (Period.FIVE_MINUTE, Period.HOUR):
            step = SHORT_TERM_SECONDS if chosen is Period.FIVE_MINUTE else HOUR_SECONDS
            first_s = start_s - start_s % step
            if end_s <= first_s:
                return {}
            table = _TABLES[step]
            rows = await async_fetch_chunked(
                self._conn, _ROWS_SQL.format(table=table), ids, after=(first_s, end_s)
            )
            sums_before = dict(await async_fetch_chunked(
                self._conn, _SUM_BEFORE_SQL.format(table=table), ids, before=(first_s,)
            ))
            return await self._hub.async_add_executor_job(
                _shape, names, rows, sums_before, step, [], zone, wanted, epoch_ms
            )
        boundaries = _local_boundaries(start_s, end_s, chosen, zone)
        if len(boundaries) < 2:
            return {}
        first_hour_s = boundaries[0] - boundaries[0] % HOUR_SECONDS
        hourly = await async_fetch_chunked(
            self._conn, _ROWS_SQL.format(table="statistics"), ids,
            after=(first_hour_s, boundaries[-1]),
        )
        sums_before = dict(await async_fetch_chunked(
            self._conn, _SUM_BEFORE_SQL.format(table="statistics"), ids, before=(first_hour_s,)
        ))
        edges = sorted({boundary - boundary % HOUR_SECONDS for boundary in boundaries
                        if boundary % HOUR_SECONDS})
        edge_rows: list[StatisticsRow] = []
        short_term_from: dict[int, int] = {}
        if edges:
            short_term_from = dict(await async_fetch_chunked(
                self._conn, _FIRST_SHORT_TERM_SQL, ids
            ))
            for offset in range(0, len(edges), _EDGES_PER_QUERY):
                chunk = edges[offset:offset + _EDGES_PER_QUERY]
                edge_rows.extend(await async_fetch_chunked(
                    self._conn, _EDGE_ROWS_SQL.format(edges=", ".join(["(?)"] * len(chunk))),
                    ids, before=chunk,
                ))
        return await self._hub.async_add_executor_job(
            _shape_local, names, hourly, edge_rows, short_term_from, sums_before, boundaries,
            zone, wanted, epoch_ms,
        )


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


def _shape_local(
    names: dict[int, str],
    hourly: list[StatisticsRow],
    edge_rows: list[StatisticsRow],
    short_term_from: dict[int, int],
    sums_before: dict[int, float | None],
    boundaries: list[int],
    zone: tzinfo,
    wanted: tuple[StatisticType, ...],
    epoch_ms: bool,
) -> dict[str, list[dict[str, Any]]]:
    """Days or months from hourly rows, with the hours holding a local midnight taken from
    their 5-minute rows where the statistic still has them for the whole hour (runs in an
    executor)."""
    split: dict[tuple[int, int], list[StatisticsRow]] = {}
    for row in edge_rows:
        metadata_id, start_s = row[0], row[1]
        hour_s = start_s - start_s % HOUR_SECONDS
        first_s = short_term_from.get(metadata_id)
        if first_s is not None and first_s <= hour_s:
            split.setdefault((metadata_id, hour_s), []).append(row)
    rows = [row for row in hourly if (row[0], row[1]) not in split]
    for parts in split.values():
        rows.extend(parts)
    rows.sort(key=lambda row: (row[0], row[1]))
    return _shape(names, rows, sums_before, 0, boundaries, zone, wanted, epoch_ms)


def _shape(
    names: dict[int, str],
    rows: list[StatisticsRow],
    sums_before: dict[int, float | None],
    step: int,
    boundaries: list[int],
    zone: tzinfo,
    wanted: tuple[StatisticType, ...],
    epoch_ms: bool,
) -> dict[str, list[dict[str, Any]]]:
    """Group rows (in time order per statistic) into periods and format them (runs in an
    executor).

    With `step`, periods are UTC-aligned; otherwise they run between consecutive local
    `boundaries`, and rows before the first one only carry the sum in. Every period is
    labelled in the site's `zone`, so one answer reads in one offset; with `epoch_ms`, as
    milliseconds since the epoch.
    """
    grouped: dict[int, dict[int, list[PeriodValues]]] = {}
    sums_in = dict(sums_before)
    for metadata_id, start_s, *values in rows:
        key = start_s if step else bisect_right(boundaries, start_s) - 1
        if key < 0:
            if values[3] is not None:
                sums_in[metadata_id] = values[3]
            continue
        grouped.setdefault(metadata_id, {}).setdefault(key, []).append(PeriodValues(*values))
    result: dict[str, list[dict[str, Any]]] = {}
    for metadata_id in sorted(grouped, key=lambda mid: names[mid]):
        previous_sum = sums_in.get(metadata_id)
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
            full = {StatisticType.MEAN: values.mean, StatisticType.MIN: values.min,
                    StatisticType.MAX: values.max, StatisticType.SUM: values.sum,
                    StatisticType.STATE: values.state, StatisticType.CHANGE: change}
            row: dict[str, Any] = (
                {"start": begin_s * 1000.0, "end": end_s * 1000.0} if epoch_ms else {
                    "start": datetime.fromtimestamp(begin_s, zone).isoformat(),
                    "end": datetime.fromtimestamp(end_s, zone).isoformat(),
                }
            )
            row.update((kind.value, _tidy(full[kind])) for kind in wanted)
            out.append(row)
        if out:
            result[names[metadata_id]] = out
    return result


def _tidy(value: float | None) -> float | None:
    """Drop floating-point noise from sums of many readings (16533.330000001937 -> 16533.33)."""
    return None if value is None else float(f"{value:.12g}")
