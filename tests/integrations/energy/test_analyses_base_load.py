"""energy.analyze_base_load on the deck's anodizing line, a month of hourly statistics.

Deck (PRODUCT.md E8): a line held a steady 42 kW every day 17:00-23:00 after the shift ended
(auxiliaries left on); switching off saves 75,600 kWh/year (about ¥50.7k). The deck's
arithmetic: 42 kW x 6 h x 300 days = 75,600 kWh; ¥50.7k / 75,600 kWh = 0.67 ¥/kWh. The data:
production 08:00-17:00 at 280-380 kW, 42 +- 0.5 kW from 17:00 to 23:00, 1.5 kW at night,
for January 2025, imported as hourly consumption.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import
from plantpulse.integrations.energy.analyses.base_load import find_base_loads
from plantpulse.integrations.energy.analyses.common import Load, Prices
from tests.conftest import LoopStallMeter

SHANGHAI = ZoneInfo("Asia/Shanghai")
LINE = "sensor.anodizing_kwh"
CONFIG = "recorder:\nalarm:\nenergy:\n"


def line_kw(hour: int, rng: np.random.Generator) -> float:
    if 8 <= hour < 17:
        return float(rng.uniform(280, 380))
    if 17 <= hour < 23:
        return 42 + float(rng.uniform(-0.5, 0.5))
    return 1.5


def hourly_rows(days: int) -> list[ImportRow]:
    rng = np.random.default_rng(7)
    start = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    return [ImportRow(LINE, start + timedelta(hours=index + 1),
                      line_kw((start + timedelta(hours=index)).hour, rng), "interval")
            for index in range(days * 24)]


@pytest.fixture
async def line(hub_factory: Callable[..., Awaitable[Hub]]) -> Hub:
    hub = await hub_factory(CONFIG)
    recorder = get_recorder(hub)
    assert recorder is not None
    await async_import(recorder, hourly_rows(31), unit="kWh")
    return hub


async def analyze(hub: Hub, **data: object) -> dict:
    return await hub.services.async_call("energy", "analyze_base_load", {
        "entity_id": LINE, "start": "2025-01-01", "end": "2025-02-01", **data},
        return_response=True)


async def test_finds_the_deck_evening_window_and_its_yearly_waste(line: Hub) -> None:
    result = await analyze(line, price=0.67, days_per_year=300)
    assert result["days"] == 31
    assert result["production_slots"] == [f"{hour:02d}:00" for hour in range(8, 17)]
    [window] = result["windows"]  # the night's 1.5 kW is under min_kw (5 kW)
    assert (window["from"], window["to"], window["hours"]) == ("17:00", "23:00", 6)
    # The level is the median of uniform noise around 42: within 0.1 kW.
    assert window["level_kw"] == pytest.approx(42, abs=0.1)
    assert window["days_recurring"] == window["days_with_data"] == 31
    assert window["kwh_per_day"] == pytest.approx(252, abs=0.6)
    # 75,600 kWh/year and ¥50.7k (the deck rounds to 0.1k) within the level's 0.1 kW.
    assert window["kwh_per_year"] == pytest.approx(75_600, abs=180)
    assert window["cost_per_year"] == pytest.approx(50_700, abs=150)


async def test_the_night_floor_counts_with_a_lower_min_and_years_default_to_recurrence(
        line: Hub) -> None:
    result = await analyze(line, price=0.67, min_kw=1)
    windows = {(window["from"], window["to"]): window for window in result["windows"]}
    assert set(windows) == {("17:00", "23:00"), ("23:00", "08:00")}
    night = windows[("23:00", "08:00")]
    assert night["level_kw"] == pytest.approx(1.5) and night["hours"] == 9
    assert windows[("17:00", "23:00")]["days_per_year"] == 365  # seen on every day


async def test_threshold_alarm_names_the_window(line: Hub) -> None:
    result = await analyze(line, price=0.67, threshold=30)
    assert result["alarm"] == "raised"
    alarm = line.data["alarm"].get("energy_base_load_sensor_anodizing_kwh")
    assert alarm is not None and "17:00-23:00 42.0 kW" in alarm.messages["en"]
    assert (await analyze(line, price=0.67, threshold=50))["alarm"] == "cleared"


async def test_errors(line: Hub) -> None:
    with pytest.raises(ServiceValidationError, match="give 'price'"):
        await analyze(line)
    with pytest.raises(ServiceValidationError, match="at least 3 days"):
        await analyze(line, price=0.5, end="2025-01-02")


async def test_analysis_runs_off_the_loop(line: Hub) -> None:
    """A year of 5-minute load: the analysis itself takes a while, the loop never waits."""
    step = 300.0
    starts = datetime(2024, 1, 1, tzinfo=SHANGHAI).timestamp() + np.arange(366 * 288) * step
    rng = np.random.default_rng(1)
    hours = ((starts + 8 * 3600) % 86400) // 3600
    kw = np.where((hours >= 8) & (hours < 17), rng.uniform(280, 380, len(starts)),
                  np.where((hours >= 17) & (hours < 23), 42.0, 1.5))
    load = Load(starts, kw, step)
    options = {"min_kw": 5.0, "step_kw": 5.0, "expected_kw": 0.0}
    prices = Prices(0.67, None, SHANGHAI)
    began = time.perf_counter()
    direct = find_base_loads(load, SHANGHAI, prices, options)
    alone = time.perf_counter() - began
    async with LoopStallMeter() as meter:
        result = await line.async_add_executor_job(find_base_loads, load, SHANGHAI, prices,
                                                   options)
    assert result == direct and result["windows"][0]["from"] == "17:00"
    assert alone > 0.1, alone  # enough work to stall the loop if it ran there
    assert meter.worst < alone / 2, (meter.worst, alone)
