"""energy.analyze_stop_delay on the deck's induced-draft fan, from recorded states.

Deck (PRODUCT.md E8): a fan kept running after its process stopped; cutting the delay to
under a minute saved 250 kWh/day (¥48.8k/year). 250 kWh/day x 365 = 91,250 kWh/year, so the
deck's price is 48,800 / 91,250 = 0.5348 ¥/kWh. The data (states with their measured times):
the kiln runs 08:00-20:00 each day; its 250 kW fan (the demo plant's) stops 61 minutes after
it for four days, 61 minutes of which 60 are beyond the allowed minute: 250 kWh/day; then,
fixed, 30 seconds after it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub

SHANGHAI = ZoneInfo("Asia/Shanghai")
KILN, FAN = "sensor.kiln_kw", "sensor.id_fan_kw"
KW = {"unit_of_measurement": "kW", "device_class": "power", "state_class": "measurement"}
DECK_PRICE = round(48_800 / (250 * 365), 4)  # 0.5348
FIXED = datetime(2025, 3, 5, tzinfo=SHANGHAI)


async def run_days(hub: Hub, fan_state: Callable[[str], str] = str) -> None:
    """Kiln and fan states from 2025-03-01 to 03-07, in the order they were measured."""
    readings = []
    for day in range(1, 8):
        base = datetime(2025, 3, day, tzinfo=SHANGHAI)
        delay = timedelta(minutes=61) if base < FIXED else timedelta(seconds=30)
        readings += [(base + timedelta(hours=7, minutes=58), FAN, fan_state("250")),
                     (base + timedelta(hours=8), KILN, "300"),
                     (base + timedelta(hours=20), KILN, "0"),
                     (base + timedelta(hours=20) + delay, FAN, fan_state("0"))]
    for moment, entity_id, state in readings:
        hub.states.async_set(entity_id, state, KW, measured_at=moment)
    await hub.async_block_till_done()


@pytest.fixture
async def plant(hub_factory: Callable[..., Awaitable[Hub]]) -> Hub:
    clock = ManualClock(datetime(2025, 3, 8, 1, tzinfo=UTC))
    hub = await hub_factory("recorder:\n  commit_interval: 0\nalarm:\nenergy:\n", clock=clock)
    return hub


async def analyze(hub: Hub, **data: object) -> dict:
    return await hub.services.async_call("energy", "analyze_stop_delay", {
        "leader": KILN, "follower": FAN, "price": DECK_PRICE, **data}, return_response=True)


async def test_reproduces_the_deck_fan_before_and_after_the_fix(plant: Hub) -> None:
    await run_days(plant)
    before = await analyze(plant, start="2025-03-01", end="2025-03-05")
    assert before["stops"] == 4 and before["stops_over_allowed"] == 4
    assert before["median_delay_s"] == before["max_delay_s"] == 61 * 60
    assert before["events"][0] == {"leader_stopped": "2025-03-01T12:00:00+00:00",
                                   "follower_stopped": "2025-03-01T13:01:00+00:00",
                                   "delay_s": 3660.0, "wasted_kwh": 250.0}
    # Exact: 60 minutes beyond the allowed one at 250 kW, every day.
    assert before["wasted_kwh_per_day"] == 250
    assert before["wasted_kwh_per_year"] == 91_250
    assert before["cost_per_year"] == pytest.approx(48_800, abs=50)  # the deck's ¥48.8k
    after = await analyze(plant, start="2025-03-05", end="2025-03-08")
    assert after["stops"] == 3 and after["max_delay_s"] == 30
    assert after["stops_over_allowed"] == 0 and after["wasted_kwh_per_day"] == 0


async def test_on_off_follower_needs_its_power_and_threshold_raises_the_alarm(
        plant: Hub) -> None:
    await run_days(plant, lambda kw: "on" if float(kw) else "off")
    with pytest.raises(ServiceValidationError, match="give 'follower_kw'"):
        await analyze(plant, start="2025-03-01", end="2025-03-05")
    result = await analyze(plant, start="2025-03-01", end="2025-03-05", follower_kw=250,
                           threshold=300)
    assert result["wasted_kwh_per_day"] == 250 and result["stops_over_threshold"] == 4
    assert result["alarm"] == "raised"
    alarm = plant.data["alarm"].get("energy_stop_delay_sensor_kiln_kw_sensor_id_fan_kw")
    assert alarm is not None and alarm.source == FAN
    assert "3660 s" in alarm.messages["en"]
    fixed = await analyze(plant, start="2025-03-05", end="2025-03-08", follower_kw=250,
                          threshold=300)
    assert fixed["alarm"] == "cleared"


async def test_errors(plant: Hub) -> None:
    await run_days(plant)
    with pytest.raises(ServiceValidationError, match=r"no recorded states of sensor\.other"):
        await analyze(plant, follower="sensor.other", start="2025-03-01", end="2025-03-05")
    with pytest.raises(ServiceValidationError, match="two different entities"):
        await analyze(plant, follower=KILN, start="2025-03-01", end="2025-03-05")
    with pytest.raises(ServiceValidationError, match="give 'price'"):
        await plant.services.async_call("energy", "analyze_stop_delay", {
            "leader": KILN, "follower": FAN, "start": "2025-03-01", "end": "2025-03-05"},
            return_response=True)
