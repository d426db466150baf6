"""Statistics arithmetic without I/O: time-weighted means, meter sums across resets, roll-ups."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from plantpulse.core.platforms.sensor import StateClass
from plantpulse.core.recorder.const import RESET_RATIO

METER_CLASSES = frozenset({StateClass.TOTAL, StateClass.TOTAL_INCREASING})


@dataclass(frozen=True, slots=True)
class Reading:
    """A recorded state as statistics see it: a number, or None for a gap (unavailable)."""

    ts_us: int
    value: float | None
    last_reset: str | None = None


@dataclass(slots=True)
class Meter:
    """Where a meter statistic stands: consumption so far, last reading, counting reference."""

    sum: float
    state: float | None
    ref: float | None  # None after imported interval values: no reading to count from


@dataclass(frozen=True, slots=True)
class PeriodValues:
    """One statistics row's values; fields that do not apply are None."""

    mean: float | None = None
    min: float | None = None
    max: float | None = None
    sum: float | None = None
    state: float | None = None
    meter_ref: float | None = None


def parse_number(state: str | None) -> float | None:
    """The state as a finite number, or None (unavailable, unknown, text, NaN)."""
    if state is None:
        return None
    try:
        value = float(state)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def time_weighted(
    start_us: int, end_us: int, carry: Reading | None, readings: Sequence[Reading]
) -> PeriodValues | None:
    """Mean weighted by how long each value held in [start, end), with min and max.

    `carry` is the last reading before the period (its value holds until the first reading
    inside); `readings` are inside the period, in time order. Time under a gap does not
    count. None when no number held at any moment of the period.
    """
    weighted = 0.0
    covered = 0
    low = high = None
    value = carry.value if carry is not None else None
    since = start_us
    for reading in (*readings, Reading(end_us, None)):
        if value is not None and reading.ts_us > since:
            span = reading.ts_us - since
            weighted += value * span
            covered += span
            low = value if low is None or value < low else low
            high = value if high is None or value > high else high
        value = reading.value
        since = max(reading.ts_us, start_us)
    if not covered:
        return None
    return PeriodValues(mean=weighted / covered, min=low, max=high)


def accumulate(
    state_class: StateClass, previous: Meter | None, carry: Reading | None,
    readings: Sequence[Reading],
) -> Meter | None:
    """Advance a meter statistic over one period's readings; returns where it then stands.

    The sum starts at 0 with the first reading ever seen. For `total_increasing`, a reading
    below RESET_RATIO of the reference is a meter reset (consumption counts again from 0);
    a smaller dip is noise: it is ignored and the reference stays, so the rise back adds
    nothing twice. For `total`, differences count with their sign and a change of the
    `last_reset` attribute marks a reset.
    """
    meter = Meter(previous.sum, previous.state, previous.ref) if previous is not None else None
    last_reset = carry.last_reset if carry is not None else None
    if meter is None and carry is not None and carry.value is not None:
        meter = Meter(0.0, carry.value, carry.value)
    for reading in readings:
        value = reading.value
        if value is None:
            continue
        if meter is None:
            meter = Meter(0.0, value, value)
        elif meter.ref is None:
            # The sum so far came without readings (imported interval values): live
            # consumption counts from this first reading on.
            meter.ref = value
        elif state_class is StateClass.TOTAL:
            reset = (reading.last_reset is not None and last_reset is not None
                     and reading.last_reset != last_reset)
            meter.sum += value if reset else value - meter.ref
            meter.ref = value
        elif value >= meter.ref:
            meter.sum += value - meter.ref
            meter.ref = value
        elif value < RESET_RATIO * meter.ref:
            meter.sum += value
            meter.ref = value
        meter.state = value
        last_reset = reading.last_reset
    return meter


def roll_up(rows: Iterable[PeriodValues]) -> PeriodValues | None:
    """Combine consecutive rows (5-minute into hours, hours into days): means averaged,
    extremes kept, the meter values of the last row."""
    means: list[float] = []
    low = high = None
    last: PeriodValues | None = None
    for row in rows:
        if row.mean is not None:
            means.append(row.mean)
        if row.min is not None:
            low = row.min if low is None else min(low, row.min)
        if row.max is not None:
            high = row.max if high is None else max(high, row.max)
        last = row
    if last is None:
        return None
    return PeriodValues(
        mean=sum(means) / len(means) if means else None, min=low, max=high,
        sum=last.sum, state=last.state, meter_ref=last.meter_ref,
    )
