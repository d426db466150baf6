"""Meter accumulation rules, read off directly: resets, noise, and sums without readings."""

from __future__ import annotations

from plantpulse.core.platforms.sensor import StateClass
from plantpulse.core.recorder.statistics_math import Meter, Reading, accumulate

INCREASING = StateClass.TOTAL_INCREASING


def readings(*values: float | None) -> list[Reading]:
    return [Reading(index, value) for index, value in enumerate(values)]


def test_rises_add_noise_is_ignored_and_a_reset_counts_from_zero() -> None:
    meter = accumulate(INCREASING, None, None, readings(100, 105, 104.9, 106, 2, 5))
    assert meter == Meter(sum=6 + 5, state=5, ref=5)


def test_live_readings_continue_a_sum_imported_without_readings() -> None:
    """Interval values imported from CSV leave a sum but no reading: the first live reading
    becomes the reference and only what follows it counts."""
    imported = Meter(sum=1486.5, state=None, ref=None)
    meter = accumulate(INCREASING, imported, None, readings(None, 5230.0, 5232.5))
    assert meter == Meter(sum=1486.5 + 2.5, state=5232.5, ref=5232.5)
