"""energy.analyze_unit_drift on the deck's vertical mill, daily figures from statistics.

Deck (PRODUCT.md E8): the mill's electricity unit consumption returned to 23.5 kWh/t after
process parameters were fixed (¥115k over 15 days). The deck gives neither output nor price;
the data assumes 4,800 t/day (200 t/h) and 0.5 ¥/kWh, so the drift is 3.2 kWh/t (26.7 kWh/t)
for 15 days: 3.2 x 4,800 x 15 = 230,400 kWh, ¥115,200. Ten normal days, the 15 drifting
days from 2025-04-11, five normal days; imported as hourly consumption and output.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import

SHANGHAI = ZoneInfo("Asia/Shanghai")
MILL, OUTPUT = "sensor.mill_kwh", "sensor.mill_output_t"
START = datetime(2025, 4, 1, tzinfo=SHANGHAI)
TONNES_PER_HOUR = 200.0


def unit_of_day(day: int) -> float:
    return 26.7 if 10 <= day < 25 else 23.5


@pytest.fixture
async def mill(hub_factory: Callable[..., Awaitable[Hub]]) -> Hub:
    hub = await hub_factory("recorder:\nenergy:\n")
    recorder = get_recorder(hub)
    assert recorder is not None
    energy, output = [], []
    for hour in range(30 * 24):
        end = START + timedelta(hours=hour + 1)
        output.append(ImportRow(OUTPUT, end, TONNES_PER_HOUR, "interval"))
        energy.append(ImportRow(MILL, end, TONNES_PER_HOUR * unit_of_day(hour // 24),
                                "interval"))
    await async_import(recorder, energy, unit="kWh")
    await async_import(recorder, output, unit="t")
    return hub


async def analyze(hub: Hub, **data: object) -> dict:
    return await hub.services.async_call("energy", "analyze_unit_drift", {
        "energy": MILL, "output": OUTPUT, "start": "2025-04-01", "end": "2025-05-01",
        "price": 0.5, **data}, return_response=True)


@pytest.mark.parametrize("reference", [{"quota": 23.5}, {}])
async def test_finds_the_deck_mill_drift_and_when_it_started(mill: Hub,
                                                             reference: dict) -> None:
    result = await analyze(mill, **reference)
    assert len(result["daily"]) == 30
    assert result["daily"][0]["unit_consumption"] == pytest.approx(23.5)
    [run] = result["runs"]
    assert (run["start"], run["end"], run["days"]) == ("2025-04-11", "2025-04-25", 15)
    assert run["ended"] == "2025-04-26" and result["drifting"] is False
    assert run["unit_consumption"] == pytest.approx(26.7)
    assert run["reference"] == pytest.approx(23.5)
    assert run["excess"] == pytest.approx(230_400, rel=1e-9)
    assert run["excess_cost"] == pytest.approx(115_200, abs=0.01)  # the deck's ¥115k


async def test_a_drift_still_going_on(mill: Hub) -> None:
    result = await analyze(mill, end="2025-04-20", quota=23.5)
    assert result["drifting"] is True
    assert result["runs"][0]["ended"] is None and result["runs"][0]["days"] == 9


async def test_errors(mill: Hub) -> None:
    with pytest.raises(ServiceValidationError, match=r"no daily statistics of sensor\.none"):
        await analyze(mill, output="sensor.none")
    with pytest.raises(ServiceValidationError, match="give 'price'"):
        await mill.services.async_call("energy", "analyze_unit_drift", {
            "energy": MILL, "output": OUTPUT, "start": "2025-04-01", "end": "2025-05-01"},
            return_response=True)
