"""energy.analyze_twin on the deck's twin circulators, imported as hourly statistics.

Deck (PRODUCT.md E8): two identical 800 kW circulators, #1 running 20-30 kW above #3, 675
kWh/day more; after repair the gap fell to 4-6 kW (110 kWh/day): saving 565 kWh/day,
¥113.6k/year. 565 kWh/day x 365 days = 206,225 kWh/year, so the deck's price is
113,600 / 206,225 = 0.5508 ¥/kWh. The data: #3 follows a daily load swing with noise, #1 is
#3 plus a gap of 28.125 +- 1.875 kW (26.25-30 kW, exactly 675 kWh per day) for two weeks and
4.583 +- 0.417 kW (4.17-5.0 kW, 110 kWh per day) for two weeks after the repair.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIRST, THIRD = "sensor.circulator_1_kwh", "sensor.circulator_3_kwh"
START = datetime(2025, 6, 1, tzinfo=SHANGHAI)
REPAIR = datetime(2025, 6, 15, tzinfo=SHANGHAI)
END = datetime(2025, 6, 29, tzinfo=SHANGHAI)
DECK_PRICE = round(113_600 / (565 * 365), 4)  # 0.5508

CONFIG = """
recorder:
alarm:
energy:
  tariffs:
    flat_rate:
      versions:
        - valid_from: 2020-01-01
          prices: {peak: 0.8, valley: 0.3}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "08:00", to: "24:00", period: peak}
  meters:
    - id: circulator_1
      level: equipment
      entity: sensor.circulator_1_kwh
      tariff: flat_rate
"""


def hourly_rows() -> list[ImportRow]:
    """Each circulator's kWh per hour (an hour's kWh is its mean kW)."""
    rng = np.random.default_rng(3)
    rows = []
    hour = START
    while hour < END:
        phase = 2 * math.pi * hour.hour / 24
        third = 760 + 25 * math.sin(phase) + rng.normal(0, 4)
        gap = (28.125 + 1.875 * math.cos(phase) if hour < REPAIR
               else 110 / 24 + 0.4167 * math.cos(phase))
        hour += timedelta(hours=1)
        rows += [ImportRow(THIRD, hour, third, "interval"),
                 ImportRow(FIRST, hour, third + gap, "interval")]
    return rows


@pytest.fixture
async def pumps(hub_factory: Callable[..., Awaitable[Hub]]) -> Hub:
    hub = await hub_factory(CONFIG)
    assert not hub.config_issues, hub.config_issues
    recorder = get_recorder(hub)
    assert recorder is not None
    await async_import(recorder, hourly_rows(), unit="kWh")
    return hub


async def analyze(hub: Hub, **data: object) -> dict:
    return await hub.services.async_call("energy", "analyze_twin", {
        "first": FIRST, "second": THIRD, "start": "2025-06-01", "end": "2025-06-29", **data},
        return_response=True)


async def test_reproduces_the_deck_circulators(pumps: Hub) -> None:
    result = await analyze(pumps, split_at="2025-06-15", price=DECK_PRICE)
    before, after = result["before"], result["after"]
    # Exact by construction (the noise is common to both pumps): to the rounding, 0.01 kWh.
    assert before["extra_kwh_per_day"] == pytest.approx(675, abs=0.01)
    assert after["extra_kwh_per_day"] == pytest.approx(110, abs=0.01)
    assert before["mean_gap_kw"] == pytest.approx(28.125, abs=0.001)
    assert 20 <= before["gap_p10_kw"] <= before["gap_p90_kw"] <= 30
    assert 4 <= after["gap_p10_kw"] <= after["gap_p90_kw"] <= 6
    assert before["days"] == after["days"] == 14
    assert result["saving_kwh_per_day"] == pytest.approx(565, abs=0.02)
    # The deck's ¥113.6k is rounded to 0.1k: within ¥50 of it.
    assert result["saving_cost_per_year"] == pytest.approx(113_600, abs=50)
    assert result["price_from"] == "price"
    # The gap's own cost per year before the repair: 675 x 365 x 0.5508.
    assert before["cost_per_year"] == pytest.approx(675 * 365 * DECK_PRICE, rel=1e-4)


async def test_price_from_the_tariff_weights_the_extra_energy_by_when_it_was_used(
        pumps: Hub) -> None:
    result = await analyze(pumps, start="2025-06-15")
    gap = result["gap"]
    # Valley 00-08 at 0.3, peak 08-24 at 0.8; the gap's cosine puts less of it in the day.
    hours = np.arange(24)
    extra = 110 / 24 + 0.4167 * np.cos(2 * np.pi * hours / 24)
    expected = float(np.sum(extra * np.where(hours < 8, 0.3, 0.8)) / extra.sum())
    assert result["price_from"] == "tariff:flat_rate"
    assert gap["price"] == pytest.approx(expected, abs=1e-3)
    assert gap["cost_per_year"] == pytest.approx(110 * 365 * expected, rel=1e-3)


async def test_threshold_raises_and_clears_the_alarm(pumps: Hub) -> None:
    alarms = pumps.data["alarm"]
    key = "energy_twin_sensor_circulator_1_kwh_sensor_circulator_3_kwh"
    raised = await analyze(pumps, end="2025-06-15", price=0.55, threshold=15)
    assert raised["alarm"] == "raised"
    alarm = alarms.get(key)
    assert alarm is not None and alarm.source == FIRST
    assert "28.1 kW" in alarm.messages["en"]
    cleared = await analyze(pumps, start="2025-06-15", price=0.55, threshold=15)
    assert cleared["alarm"] == "cleared"
    assert alarms.get(key) is None or alarms.get(key).cleared_at is not None


@pytest.mark.parametrize(("data", "message"), [
    ({"second": FIRST}, "two different machines"),
    ({"split_at": "2025-07-01"}, "between 'start' and 'end'"),
    ({"start": "2025-06-29", "end": "2025-06-01"}, "must come after"),
    ({"first": THIRD, "second": "sensor.nothing"}, "give 'price'"),
    ({"second": "sensor.nothing", "price": 0.5}, "no hour statistics of sensor.nothing"),
])
async def test_input_errors_say_what_to_give(pumps: Hub, data: dict, message: str) -> None:
    with pytest.raises(ServiceValidationError, match=message):
        await analyze(pumps, **data)
