"""Simulated history: what the meters read before the hub started, written as late readings.

On a first start `history_days` of readings are back-filled so the recorder's history and
statistics have data at once; after a restart the downtime is integrated into the totals
(real meters keep counting while the hub is down) and its last `history_days` back-filled.
Readings carry `measured_at` in the past, so the state machine passes them to the recorder as
`state_backfilled` without touching the live states.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

from plantpulse.core.dt import from_timestamp
from plantpulse.integrations.demo.const import FILL_CHUNK, HISTORY_STEP, MAX_FILL_STEPS
from plantpulse.integrations.demo.simulation import PlantSimulation, Rates, integrate, time_grid

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
    return time_grid(begin, end, max(HISTORY_STEP, (end - begin) / MAX_FILL_STEPS))


def evaluate(simulation: PlantSimulation, times: list[float]) -> tuple[list[Rates], list[Rates]]:
    """The rates at each of `times`, and what each meter counted from the first time to each.

    Blocking (up to MAX_FILL_STEPS evaluations): it runs in the executor.
    """
    series = [simulation.rates(times[0])]
    counted = [dict.fromkeys(series[0], 0.0)]
    for earlier, later in pairwise(times):
        rates, amounts = integrate(simulation, (earlier, later), series[-1])
        series.append(rates)
        counted.append({key: counted[-1][key] + amount for key, amount in amounts.items()})
    return series, counted


async def async_fill(runner: PlantRunner, plan: FillPlan) -> None:
    """Integrate the plan's stretch in the executor, then write its history in chunks."""
    times = fill_times(plan.begin, plan.end)
    series, counted = await runner.hub.async_add_executor_job(
        evaluate, runner.simulation.clone(), times
    )
    total = counted[-1]
    if plan.known_at_end:
        start = {key: plan.readings[key] - total[key] for key in total}
    else:
        start = {key: plan.readings.get(key, 0.0) for key in total}
        runner.async_add_gap(total)
    if plan.write_from is None:
        return
    first_written = 0 if plan.known_at_end else 1
    for first in range(first_written, len(times), FILL_CHUNK):
        for index in range(first, min(first + FILL_CHUNK, len(times))):
            if times[index] >= plan.write_from:
                _write(runner, times[index], series[index], start, counted[index])
        await asyncio.sleep(0)


def _write(
    runner: PlantRunner, time: float, rates: Rates, start: Rates, counted: Rates
) -> None:
    measured_at = from_timestamp(time)
    for sensor in runner.sensors:
        key = sensor.meter_key
        value = start[key] + counted[key] if sensor.quantity.total else rates[key]
        sensor.async_write_reading(value, measured_at)
