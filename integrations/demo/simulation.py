"""Load shapes of the demo plant: every meter's rate at any simulated time, reproducibly."""

from __future__ import annotations

import math
import time as time_module
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from itertools import pairwise

from plantpulse.integrations.demo.const import (
    DAY,
    FAST_CORRELATION,
    FAST_STEP,
    HOUR,
    MINUTE,
    SLOW_CORRELATION,
    SLOW_STEP,
    SWING_PEAK_HOUR,
)
from plantpulse.integrations.demo.noise import Ar1Noise, stream_key
from plantpulse.integrations.demo.plant import PLANT, Period, Plant, Profile, Schedule

Rates = dict[str, float]


def envelope(seconds: float, period: Period, ramp_up: float, ramp_down: float) -> float:
    """How far a period runs at `seconds` after midnight: 0 to 1, ramping in and out."""
    start, end = period.start * HOUR, period.end * HOUR
    if seconds < start:
        return 0.0
    rise = 1.0 if ramp_up <= 0 else min(1.0, (seconds - start) / ramp_up)
    fall = 1.0 if seconds <= end else (
        0.0 if ramp_down <= 0 else max(0.0, 1.0 - (seconds - end) / ramp_down)
    )
    return period.level * min(rise, fall)


def activity(schedule: Schedule, weekday: int, seconds: float) -> float:
    """How much a schedule runs (0 to its level) at a local weekday and time of day.

    Periods of the day before and after count too, for night runs that cross midnight.
    """
    ramp_up, ramp_down = schedule.ramp_up * MINUTE, schedule.ramp_down * MINUTE
    level = 0.0
    for offset, day in ((DAY, weekday - 1), (0.0, weekday), (-DAY, weekday + 1)):
        for period in schedule.periods(day % 7):
            level = max(level, envelope(seconds + offset, period, ramp_up, ramp_down))
    return level


class PlantSimulation:
    """Every meter's rate (kW, m³/h, t/h) at any simulated time.

    A pure function of (seed, time): the same seed gives the same values whatever order times
    are asked in, so tests can assert figures and back-filled history matches live values.
    Asking in increasing time order is cheapest.
    """

    def __init__(self, seed: int, zone: tzinfo, plant: Plant = PLANT) -> None:
        self.seed = seed
        self.zone = zone
        self.plant = plant
        leaves = [(meter.key, meter.profile) for meter in plant.meters if meter.profile]
        # Leaves that follow another leaf's rate come after it.
        self._leaves = sorted(leaves, key=lambda leaf: leaf[1].follows is not None)
        self._parents = [
            (parent.key, 1.0 + parent.loss, [child.key for child in plant.children(parent.key)])
            for parent in plant.parents
        ]
        drifts: dict[str, Ar1Noise] = {}
        self._noise: dict[str, tuple[Ar1Noise, Ar1Noise]] = {}
        for key, profile in leaves:
            drift_name = profile.drift_stream or f"{key}/slow"
            if drift_name not in drifts:
                drifts[drift_name] = Ar1Noise(
                    stream_key(seed, drift_name), SLOW_STEP, SLOW_CORRELATION
                )
            self._noise[key] = (
                Ar1Noise(stream_key(seed, f"{key}/fast"), FAST_STEP, FAST_CORRELATION),
                drifts[drift_name],
            )

    def clone(self) -> PlantSimulation:
        """A simulation with the same seed and its own noise caches (for a second time line)."""
        return PlantSimulation(self.seed, self.zone, self.plant)

    def _local(self, time: float) -> tuple[int, float]:
        local = datetime.fromtimestamp(time, self.zone)
        seconds = local.hour * HOUR + local.minute * MINUTE + local.second + local.microsecond / 1e6
        return local.weekday(), seconds

    def _activities(self, weekday: int, seconds: float) -> dict[str, float]:
        return {
            name: activity(schedule, weekday, seconds)
            for name, schedule in self.plant.schedules.items()
        }

    def rates(self, time: float) -> Rates:
        """Every meter's rate at `time`, with noise: what the meters read."""
        return self._evaluate(time, noisy=True)

    def expected_rates(self, time: float) -> Rates:
        """Every meter's rate at `time` without noise: the load shape itself."""
        return self._evaluate(time, noisy=False)

    def _evaluate(self, time: float, noisy: bool) -> Rates:
        weekday, seconds = self._local(time)
        activities = self._activities(weekday, seconds)
        local_hour = seconds / HOUR
        rates: Rates = {}
        for key, profile in self._leaves:
            rate = self._shape(profile, activities, local_hour, rates)
            if noisy:
                fast, slow = self._noise[key]
                rate *= 1.0 + profile.noise * fast(time) + profile.drift * slow(time)
            rates[key] = max(0.0, rate)
        for key, factor, children in self._parents:
            rates[key] = factor * sum(rates[child] for child in children)
        return rates

    @staticmethod
    def _shape(
        profile: Profile, activities: Mapping[str, float], local_hour: float, rates: Rates
    ) -> float:
        swing = math.cos(2 * math.pi * (local_hour - SWING_PEAK_HOUR) * HOUR / DAY)
        rate = profile.base * (1.0 + profile.swing * swing) + profile.excess
        for part in profile.parts:
            rate += part.amount * activities[part.schedule]
        if profile.follows is not None:
            rate += profile.per_unit * rates[profile.follows]
        return rate

    def initial_readings(self, time: float, service_days: float) -> Rates:
        """Meter readings at `time` as if the plant had run `service_days` like the last week.

        Parents come out as the sum of their children plus losses, like every later reading.
        """
        samples = [self.expected_rates(time - hour * HOUR) for hour in range(7 * 24)]
        return {
            key: sum(sample[key] for sample in samples) / len(samples) * service_days * DAY / HOUR
            for key in samples[0]
        }


def add_trapezoid(totals: Rates, before: Mapping[str, float], after: Mapping[str, float],
                  seconds: float) -> None:
    """Add to `totals` each rate's integral over `seconds` (rates per hour, so kW -> kWh)."""
    hours = seconds / HOUR
    for key, value in after.items():
        totals[key] = totals.get(key, 0.0) + (before[key] + value) * 0.5 * hours


def time_grid(begin: float, end: float, step: float) -> list[float]:
    """Evenly spaced times from `begin` to `end`, both included, at most `step` apart."""
    count = max(1, math.ceil((end - begin) / step))
    return [begin + (end - begin) * index / count for index in range(count)] + [end]


def integrate(
    simulation: PlantSimulation, times: Sequence[float], before: Mapping[str, float]
) -> tuple[Rates, Rates]:
    """The rates at the last of `times`, and each meter's amount over them (kWh, m³, t).

    `before` are the rates at the first time; rates count as linear between neighbouring
    times (trapezoids). Blocking: a long stretch takes many evaluations, so it runs in the
    executor.
    """
    amounts: Rates = {}
    for earlier, later in pairwise(times):
        after = simulation.rates(later)
        add_trapezoid(amounts, before, after, later - earlier)
        before = after
    return dict(before), amounts


@dataclass(frozen=True)
class SimClock:
    """Simulated time: real time since `real_start`, times `speed`, after `sim_start`.

    With speed 1 and both starts equal, simulated time is the wall clock, so the plant's shifts
    follow the site's real day.
    """

    speed: float
    real_start: float
    sim_start: float
    wall: Callable[[], float] = time_module.time

    @classmethod
    def starting_now(cls, speed: float, wall: Callable[[], float] = time_module.time) -> SimClock:
        """A clock that starts at the current time of `wall` (the hub's clock)."""
        now = wall()
        return cls(speed, now, now, wall)

    def at(self, real_time: float) -> float:
        """The simulated time at a real POSIX time."""
        return self.sim_start + (real_time - self.real_start) * self.speed

    def now(self) -> float:
        """The simulated time now."""
        return self.at(self.wall())
