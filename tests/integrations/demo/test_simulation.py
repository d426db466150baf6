"""The demo plant's load shapes: the deck's energy cases, read from the simulation itself."""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.demo.noise import Ar1Noise, stream_key
from plantpulse.integrations.demo.plant import PLANT, Kind
from plantpulse.integrations.demo.simulation import (
    PlantSimulation,
    Rates,
    SimClock,
    integrate,
    time_grid,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, tzinfo=SHANGHAI)  # a Monday


def at(day: datetime, hours: float) -> float:
    """POSIX time of a local time of day."""
    return (day + timedelta(hours=hours)).timestamp()


def sample(simulation: PlantSimulation, start: float, end: float, step: float) -> list[Rates]:
    times = [start + step * index for index in range(int((end - start) / step) + 1)]
    return [simulation.rates(moment) for moment in times]


def totals(simulation: PlantSimulation, start: float, end: float, step: float = 10) -> Rates:
    """Each meter's total over [start, end] by fine trapezoids (kWh, m³, t)."""
    return integrate(simulation, time_grid(start, end, step), simulation.rates(start))[1]


@pytest.fixture(scope="module")
def monday() -> tuple[list[Rates], Rates]:
    """Minute samples and totals of one Monday, seed 7."""
    simulation = PlantSimulation(7, SHANGHAI)
    samples = sample(simulation, at(MONDAY, 0), at(MONDAY, 24), 60)
    return samples, totals(PlantSimulation(7, SHANGHAI), at(MONDAY, 0), at(MONDAY, 24))


def test_plant_has_a_tree_of_at_least_twelve_electricity_meters() -> None:
    electricity = [meter for meter in PLANT.meters if meter.kind is Kind.ELECTRICITY]
    assert len(electricity) >= 12
    roots = [meter.key for meter in electricity if meter.parent is None]
    assert roots == ["main"]
    assert {meter.kind for meter in PLANT.meters} == set(Kind)
    assert [child.key for child in PLANT.children("pump_house")] == ["pump_1", "pump_3"]
    assert {child.key for child in PLANT.children("grinding_line")} == {"mill", "mill_fan"}


def test_every_parent_reads_its_children_plus_a_small_loss(monday) -> None:
    samples, totals = monday
    for parent in PLANT.parents:
        children = [child.key for child in PLANT.children(parent.key)]
        for rates in samples[::30]:
            below = sum(rates[key] for key in children)
            assert rates[parent.key] == pytest.approx(below * (1 + parent.loss), rel=1e-9)
        # What a meter balance reports: the unexplained share of the parent's energy.
        unexplained = (totals[parent.key] - sum(totals[key] for key in children)) / totals[
            parent.key
        ]
        assert 0.01 <= unexplained <= 0.03
        assert unexplained == pytest.approx(parent.loss / (1 + parent.loss), rel=1e-6)


def test_twin_pumps_differ_by_20_to_30_kw(monday) -> None:
    samples, totals = monday
    gaps = [rates["pump_1"] - rates["pump_3"] for rates in samples]
    assert 20 <= statistics.mean(gaps) <= 30
    hourly = [statistics.mean(gaps[hour * 60:(hour + 1) * 60]) for hour in range(24)]
    assert all(20 <= gap <= 30 for gap in hourly), hourly
    # The deck: 675 kWh/day more on pump #1. Both stay near-constant around 560 kW.
    assert totals["pump_1"] - totals["pump_3"] == pytest.approx(675, abs=50)
    assert statistics.pstdev(rates["pump_3"] for rates in samples) < 15


def test_mill_follows_throughput_at_about_23_5_kwh_per_tonne(monday) -> None:
    samples, totals = monday
    assert totals["mill"] / totals["grinding_line_output"] == pytest.approx(23.5, abs=0.3)
    running = [rates for rates in samples if rates["grinding_line_output"] > 15]
    assert len(running) > 12 * 60  # the valley night run and the day shift
    for rates in running:
        assert rates["mill"] / rates["grinding_line_output"] == pytest.approx(23.5, rel=0.08)


def test_id_fan_keeps_running_half_an_hour_after_the_mill_stops(monday) -> None:
    samples, _totals = monday
    for shift_end in (6, 17):  # the valley night run and the day shift
        after_stop = samples[shift_end * 60:(shift_end + 1) * 60]
        mill_stopped = next(minute for minute, rates in enumerate(after_stop)
                            if rates["mill"] == 0)
        fan_stopped = next(minute for minute, rates in enumerate(after_stop)
                           if rates["mill_fan"] == 0)
        assert mill_stopped <= 6
        assert 29 <= fan_stopped - mill_stopped <= 32
        assert all(rates["mill_fan"] > 200 for rates in after_stop[:fan_stopped - 1])
    # Energy the fan uses while the mill stands still after its stops: the deck's 250 kWh/day.
    lost = sum(
        rates["mill_fan"] / 60
        for shift_end in (6, 17)
        for rates in samples[shift_end * 60:(shift_end + 1) * 60]
        if rates["mill"] == 0
    )
    assert lost == pytest.approx(250, rel=0.08)


def test_anodizing_auxiliaries_hold_42_kw_from_17_to_23() -> None:
    simulation = PlantSimulation(7, SHANGHAI)
    for day in (MONDAY + timedelta(days=offset) for offset in range(5)):
        evening = [
            simulation.rates(at(day, 17.25 + minute / 60))["anodizing_line"]
            for minute in range(0, 5 * 60 + 40, 5)
        ]
        assert statistics.mean(evening) == pytest.approx(42, abs=1)
        assert min(evening) > 39 and max(evening) < 45
        after = simulation.rates(at(day, 23.25))["anodizing_line"]
        assert after < 3
    shift = simulation.rates(at(MONDAY, 10))["anodizing_line"]
    assert shift > 150


def test_weekly_shape_weekday_saturday_sunday() -> None:
    simulation = PlantSimulation(7, SHANGHAI)
    daily = [
        totals(simulation, at(MONDAY + timedelta(days=day), 0),
               at(MONDAY + timedelta(days=day), 24), step=120)["main"]
        for day in range(7)
    ]
    weekdays, saturday, sunday = daily[:5], daily[5], daily[6]
    assert min(weekdays) > saturday > sunday
    # Sunday keeps the base loads: the circulating pumps alone are about 27 MWh a day.
    assert 27_000 < sunday < 31_000
    night = simulation.rates(at(MONDAY, 3))
    assert night["mill"] > 300  # the valley-tariff night run
    assert simulation.rates(at(MONDAY + timedelta(days=6), 3))["mill"] == 0


def test_same_seed_same_values_in_any_order() -> None:
    times = [at(MONDAY, hours) for hours in (0.1, 9.3, 9.31, 17.2, 30, 100)]
    forward = [PlantSimulation(3, SHANGHAI).rates(moment) for moment in times]
    backward_simulation = PlantSimulation(3, SHANGHAI)
    backward = [backward_simulation.rates(moment) for moment in reversed(times)][::-1]
    for first, second in zip(forward, backward, strict=True):
        for key in first:
            assert first[key] == pytest.approx(second[key], rel=1e-9, abs=1e-9)
    other_seed = PlantSimulation(4, SHANGHAI).rates(times[1])
    assert other_seed["pump_1"] != pytest.approx(forward[1]["pump_1"], abs=1e-6)


def test_ar1_noise_has_unit_variance_and_its_correlation() -> None:
    noise = Ar1Noise(stream_key(1, "test"), step=20, correlation_time=120)
    values = [noise(20 * index) for index in range(20_000)]
    assert statistics.mean(values) == pytest.approx(0, abs=0.1)
    assert statistics.pstdev(values) == pytest.approx(1, abs=0.07)
    lag_one = statistics.correlation(values[:-1], values[1:])
    assert lag_one == pytest.approx(0.846, abs=0.03)  # exp(-20/120)
    halfway = noise(20 * 100 + 10)
    assert min(values[100], values[101]) <= halfway <= max(values[100], values[101])


def test_clock_runs_simulated_time_at_its_speed() -> None:
    clock = SimClock(speed=60, real_start=1_000.0, sim_start=5_000.0)
    assert clock.at(1_000.0) == 5_000.0
    assert clock.at(1_010.0) == 5_600.0  # ten real seconds, ten simulated minutes
    live = SimClock.starting_now(1)
    assert abs(live.now() - live.real_start) < 1  # speed 1 follows the wall clock


@given(
    begin=st.floats(0, 4e9),
    length=st.floats(1e-3, 1e6),
    step=st.floats(100, 1e5),
)
def test_time_grid_is_even_and_no_finer_than_needed(
    begin: float, length: float, step: float
) -> None:
    end = begin + length
    grid = time_grid(begin, end, step)
    assert grid[0] == begin
    assert grid[-1] == end
    gaps = [later - earlier for earlier, later in pairwise(grid)]
    assert max(gaps) <= step + 1e-6
    assert max(gaps) - min(gaps) <= 1e-6
    assert len(gaps) == max(1, math.ceil((end - begin) / step))


def test_integrating_in_one_go_equals_tick_by_tick() -> None:
    start, end = at(MONDAY, 16.5), at(MONDAY, 17.5)  # the day shift ending: rates move
    whole = PlantSimulation(7, SHANGHAI)
    rates, amounts = integrate(whole, time_grid(start, end, 30), whole.rates(start))
    ticks = PlantSimulation(7, SHANGHAI)
    tick_rates, counted = ticks.rates(start), dict.fromkeys(amounts, 0.0)
    for earlier, later in pairwise(time_grid(start, end, 15 * 60)):
        tick_rates, used = integrate(ticks, time_grid(earlier, later, 30), tick_rates)
        counted = {key: counted[key] + used[key] for key in counted}
    assert tick_rates == pytest.approx(rates, rel=1e-9)
    assert counted == pytest.approx(amounts, rel=1e-9)
    # An hour of the main meter is MWh-sized; a single time counts nothing.
    assert 500 < amounts["main"] < 3000
    assert integrate(whole, [end], rates) == (rates, {})
