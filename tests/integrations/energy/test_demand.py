"""Live 15-minute demand on a ManualClock: windows, the reading grace, a power sensor's
average, and the billing month's maximum restarting on the meter-reading day."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub

ENERGY = {"unit_of_measurement": "kWh", "state_class": "total_increasing",
          "device_class": "energy"}
POWER = {"unit_of_measurement": "kW", "state_class": "measurement", "device_class": "power"}

CONFIG = """
energy:
  tariff: grid
  tariffs:
    grid:
      versions:
        - valid_from: 2024-01-01
          prices: {flat: 0.6}
          schedule:
            - {from: "00:00", to: "24:00", period: flat}
  meters:
    - id: main
      entity: sensor.main_kwh
  billing:
    - id: main
      meter: main
      reading_day: 25
    - id: line
      meter: main
      power: sensor.line_kw
"""


def utc(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2024, 3, 24, hour, minute, second, tzinfo=UTC)


async def test_windows_grace_and_month_maximum(
        hub_factory: Callable[..., Awaitable[Hub]]) -> None:
    # 15:45 UTC is 23:45 in Shanghai on 24 March; the 25th is the meter-reading day.
    clock = ManualClock(utc(15, 45))
    hub = await hub_factory(CONFIG, clock=clock)
    assert not hub.config_issues, hub.config_issues

    async def reading(minute: int, value: float) -> None:
        await clock.advance_to(utc(15, 0) + timedelta(minutes=minute))
        hub.states.async_set("sensor.main_kwh", str(value), ENERGY)
        await hub.async_block_till_done()

    for minute, value in ((45, 1000), (50, 1010), (55, 1020)):
        await reading(minute, value)
    running = hub.states.get("sensor.main_demand")
    assert float(running.state) == 80.0  # 20 kWh so far in the 15:45 window
    assert running.attributes["window_start"] == "2024-03-24T15:45:00+00:00"
    assert running.attributes["projected_kw"] == 120.0  # 20 kWh in 10 minutes

    await reading(60, 1030)  # 16:00 closes the window: 30 kWh in 15 minutes
    maximum = hub.states.get("sensor.main_max_demand")
    assert float(maximum.state) == 120.0
    assert maximum.attributes == {**maximum.attributes, "at": "2024-03-24T15:45:00+00:00",
                                  "billing_month": "2024-03"}
    assert hub.states.get("sensor.main_demand").attributes["last_window_kw"] == 120.0

    await reading(65, 1040)
    await reading(70, 1045)
    assert float(hub.states.get("sensor.main_demand").state) == 60.0
    # No reading after 16:10: the window closes 60 s after its end with what is known, and
    # as the first of the billing month 2024-04 (from 25 March 00:00 local) it is its maximum
    # although lower than March's.
    await clock.advance_to(utc(16, 15, 59))
    assert float(hub.states.get("sensor.main_max_demand").state) == 120.0
    await clock.advance_to(utc(16, 16))
    maximum = hub.states.get("sensor.main_max_demand")
    assert float(maximum.state) == 60.0
    assert maximum.attributes["billing_month"] == "2024-04"
    assert maximum.attributes["at"] == "2024-03-24T16:00:00+00:00"
    running = hub.states.get("sensor.main_demand")
    assert float(running.state) == 0.0
    assert running.attributes["window_start"] == "2024-03-24T16:15:00+00:00"

    # A meter reset (reading far below the last) counts from zero, never negative.
    await clock.advance_to(utc(16, 20))
    hub.states.async_set("sensor.main_kwh", "4", ENERGY)
    await hub.async_block_till_done()
    assert float(hub.states.get("sensor.main_demand").state) == 8.0  # 2 kWh of 4 in window


async def test_power_sensor_average(hub_factory: Callable[..., Awaitable[Hub]]) -> None:
    clock = ManualClock(utc(10, 45))
    hub = await hub_factory(CONFIG, clock=clock)
    hub.states.async_set("sensor.line_kw", "100", POWER)
    await clock.advance_to(utc(10, 52, 30))
    hub.states.async_set("sensor.line_kw", "200", POWER)
    await hub.async_block_till_done()
    assert float(hub.states.get("sensor.line_demand").state) == 50.0  # 12.5 kWh so far
    await clock.advance_to(utc(11, 0))  # a power window closes at its end
    maximum = hub.states.get("sensor.line_max_demand")
    assert float(maximum.state) == 150.0  # (100 kW × 7.5 min + 200 kW × 7.5 min) / 15 min
    assert maximum.attributes["billing_month"] == "2024-03"  # calendar months: no reading day
    await clock.advance_to(utc(11, 15))
    assert float(hub.states.get("sensor.line_max_demand").state) == 200.0
    assert hub.states.get("sensor.line_demand").attributes["last_window_kw"] == 200.0


async def test_history_from_five_minute_statistics(
        hub_factory: Callable[..., Awaitable[Hub]]) -> None:
    import time

    from plantpulse.core.recorder import get_recorder
    from plantpulse.integrations.energy.demand import async_peak

    hub = await hub_factory("recorder:\n  commit_interval: 0\n" + CONFIG)
    recorder = get_recorder(hub)
    assert recorder is not None
    start = int(time.time() // 3600 * 3600) - 3 * 3600  # a whole hour that closed
    value = 1000.0
    hub.states.async_set("sensor.main_kwh", str(value), ENERGY,
                         measured_at=datetime.fromtimestamp(start - 1, UTC))
    # kWh per 5 minutes: windows of 3 kWh (12 kW), 9 kWh (36 kW) and 3 kWh (12 kW).
    for step, used in enumerate((1, 1, 1, 2, 5, 2, 1, 1, 1), start=1):
        value += used
        hub.states.async_set("sensor.main_kwh", str(value), ENERGY,
                             measured_at=datetime.fromtimestamp(start + 300 * step - 1, UTC))
    await recorder.async_flush()
    account = hub.data["energy"].billing["main"]
    peak = await async_peak(recorder, account, datetime.fromtimestamp(start, UTC),
                            datetime.fromtimestamp(start + 2700, UTC))
    assert (peak.max_kw, peak.resolution, peak.windows) == (36.0, "15min", 3)
    assert peak.at == datetime.fromtimestamp(start + 900, UTC)
    assert peak.note is None
