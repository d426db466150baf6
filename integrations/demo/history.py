"""Simulated history: what the meters read before the hub started, written as late readings.

On a first start `history_days` of readings are back-filled so the recorder's history and
statistics have data at once; after a restart the downtime is integrated into the totals
(real meters keep counting while the hub is down) and its last `history_days` back-filled.
Readings carry `measured_at` in the past, so the state machine passes them to the recorder as
`state_backfilled` without touching the live states.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from plantpulse.integrations.demo.const import FILL_CHUNK, HISTORY_STEP, MAX_FILL_STEPS
from plantpulse.integrations.demo.simulation import Rates, add_trapezoid

if TYPE_CHECKING:
    from plantpulse.integrations.demo.runner import PlantRunner


@dataclass(frozen=True)
class FillPlan:
    """A stretch of simulated time before the live start, and what is known about it.

    `readings` are the totals at `end` on a first start (`known_at_end`), where the history
    counts back from them; after a restart they are the totals saved at `begin`, and the
    stretch's consumption is added to the live totals. Readings from `write_from` on are
    written as history; None writes none (no recorder, or `history_days: 0`).
    """

    begin: float
    end: float
    readings: Mapping[str, float]
    known_at_end: bool
    write_from: float | None


def fill_times(begin: float, end: float) -> list[float]:
    """Evenly spaced times from `begin` to `end`, every HISTORY_STEP or coarser for long gaps."""
    span = end - begin
    count = max(1, math.ceil(span / max(HISTORY_STEP, span / MAX_FILL_STEPS)))
    return [begin + span * index / count for index in range(count + 1)]


async def async_fill(runner: PlantRunner, plan: FillPlan) -> None:
    """Integrate the plan's stretch and write its history, yielding to the loop in chunks."""
    simulation = runner.simulation.clone()
    times = fill_times(plan.begin, plan.end)
    series: list[Rates] = []
    for first in range(0, len(times), FILL_CHUNK):
        series.extend(simulation.rates(moment) for moment in times[first:first + FILL_CHUNK])
        await asyncio.sleep(0)
    running: Rates = dict.fromkeys(series[0], 0.0)
    integrals = [dict(running)]
    for index in range(1, len(times)):
        add_trapezoid(running, series[index - 1], series[index], times[index] - times[index - 1])
        integrals.append(dict(running))
    if plan.known_at_end:
        start = {key: plan.readings[key] - running[key] for key in running}
    else:
        start = {key: plan.readings.get(key, 0.0) for key in running}
        runner.async_add_gap(running)
    if plan.write_from is None:
        return
    first_written = 0 if plan.known_at_end else 1
    for first in range(first_written, len(times), FILL_CHUNK):
        for index in range(first, min(first + FILL_CHUNK, len(times))):
            if times[index] >= plan.write_from:
                _write(runner, times[index], series[index], start, integrals[index])
        await asyncio.sleep(0)


def _write(
    runner: PlantRunner, time: float, rates: Rates, start: Rates, integral: Rates
) -> None:
    measured_at = datetime.fromtimestamp(time, UTC)
    for sensor in runner.sensors:
        key = sensor.meter_key
        value = start[key] + integral[key] if sensor.quantity.total else rates[key]
        sensor.async_write_reading(value, measured_at)
