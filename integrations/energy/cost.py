"""Consumption and cost per tariff segment, from a meter's cumulative sums.

A meter's statistics give its cumulative consumption (`sum`) at the end of each 5-minute or
hourly period; consecutive points bound an interval whose consumption is the difference.
Each interval lands in the tariff segment that holds it. An interval that spans a change of
period (an hour known only from hourly statistics, with a tariff boundary at half past) is
split in proportion to time, and the result is marked approximate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from plantpulse.integrations.energy.const import PERIODS
from plantpulse.integrations.energy.tariff import Segments


@dataclass(frozen=True, slots=True)
class MeterSeries:
    """Cumulative consumption `sums[i]` at `times[i]` (POSIX seconds, increasing)."""

    times: np.ndarray
    sums: np.ndarray


def series_from_statistics(hourly: Iterable[Mapping[str, Any]],
                           five_minute: Iterable[Mapping[str, Any]]) -> MeterSeries:
    """The points of a meter's hourly and 5-minute statistics rows (`start`/`end` in epoch
    milliseconds, `sum`, `change`), merged: the finer rows add points inside the hours.

    Where the hourly rows begin, the first row's start is a point too (its sum less its
    change), so the first hour counts; 5-minute rows add that point only for a meter without
    hourly rows yet.
    """
    points: dict[float, float] = {}
    for rows, baseline in ((hourly, True), (five_minute, False)):
        first = True
        for row in rows:
            total = row.get("sum")
            if total is None:
                continue
            if first and (baseline or not points) and row.get("change") is not None:
                points.setdefault(row["start"] / 1000.0, total - row["change"])
            first = False
            points[row["end"] / 1000.0] = total
    times = np.array(sorted(points))
    return MeterSeries(times, np.array([points[moment] for moment in times]))


def consumption_by_segment(series: MeterSeries, segments: Segments) -> tuple[np.ndarray, bool]:
    """Consumption per segment, and whether any had to be split between periods in
    proportion to time (or was cut at the range's edge)."""
    count = len(segments.starts)
    result = np.zeros(count)
    if len(series.times) < 2 or count == 0:
        return result, False
    begin, finish = series.times[:-1], series.times[1:]
    amounts = np.diff(series.sums)
    first = np.searchsorted(segments.starts, begin, side="right") - 1
    last = np.searchsorted(segments.ends, finish, side="left")
    inside = (first == last) & (first >= 0) & (last < count)
    result += np.bincount(first[inside], weights=amounts[inside], minlength=count)
    approximate = False
    range_start, range_end = segments.starts[0], segments.ends[-1]
    for index in np.flatnonzero(~inside):
        t0, t1, amount = begin[index], finish[index], amounts[index]
        if t1 <= range_start or t0 >= range_end:
            continue
        low = max(int(first[index]), 0)
        high = min(int(last[index]), count - 1)
        span = t1 - t0
        periods_touched = set()
        for segment in range(low, high + 1):
            overlap = min(t1, segments.ends[segment]) - max(t0, segments.starts[segment])
            if overlap > 0:
                result[segment] += amount * overlap / span
                periods_touched.add(int(segments.periods[segment]))
        if amount and (len(periods_touched) > 1 or t0 < range_start or t1 > range_end):
            approximate = True
    return result, approximate


@dataclass(frozen=True, slots=True)
class PeriodTotals:
    """Consumption and cost per period index (see PERIODS)."""

    amounts: np.ndarray
    costs: np.ndarray

    @property
    def total(self) -> float:
        """All periods together."""
        return float(self.amounts.sum())


def totals_by_period(per_segment: np.ndarray, segments: Segments) -> PeriodTotals:
    """Sum a per-segment consumption into periods, with its cost at each segment's price."""
    size = len(PERIODS)
    return PeriodTotals(
        np.bincount(segments.periods, weights=per_segment, minlength=size),
        np.bincount(segments.periods, weights=per_segment * segments.prices, minlength=size),
    )


def tidy(value: float, places: int = 9) -> float:
    """Drop floating-point noise (16533.330000001937 -> 16533.33)."""
    return round(float(value), places) + 0.0
