"""Reports from meters recorded live: 5-minute statistics, virtual meters, cost centres, tce."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENERGY = {"unit_of_measurement": "kWh", "state_class": "total_increasing",
          "device_class": "energy"}
HOUR = 3600
# Two whole hours that closed a while ago (Asia/Shanghai hours are UTC hours).
P = int(time.time() // HOUR * HOUR) - 3 * HOUR


def period_of(local_hour: int) -> str:
    return "valley" if local_hour % 2 == 0 else "peak"


def config() -> str:
    spans = "\n".join(
        f'            - {{from: "{hour:02d}:00", to: "{hour + 1:02d}:00", '
        f"period: {period_of(hour)}}}" for hour in range(24))
    return f"""
recorder:
  commit_interval: 0
energy:
  tariff: grid
  coefficients: {{electricity: 0.3}}
  tariffs:
    grid:
      versions:
        - valid_from: 2000-01-01
          prices: {{peak: 1.0, valley: 0.4}}
          schedule:
{spans}
  meters:
    - id: main
      level: site
      entity: sensor.main_kwh
      children:
        - id: press
          level: line
          entity: sensor.press_kwh
          cost_centre: {{冲压车间: 0.75, 公用: 0.25}}
        - id: rest
          level: line
          virtual: {{difference: [main, press]}}
          cost_centre: 公用
"""


async def test_five_minute_statistics_virtual_meters_and_cost_centres(
        hub_factory: Callable[..., Awaitable[Hub]]) -> None:
    hub = await hub_factory(config())
    assert not hub.config_issues, hub.config_issues
    recorder = get_recorder(hub)
    assert recorder is not None
    main, press = 1000.0, 50.0
    expected = {"valley": 0.0, "peak": 0.0}
    hub.states.async_set("sensor.main_kwh", str(main), ENERGY,
                         measured_at=datetime.fromtimestamp(P - 1, UTC))
    hub.states.async_set("sensor.press_kwh", str(press), ENERGY,
                         measured_at=datetime.fromtimestamp(P - 1, UTC))
    for step in range(1, 25):  # a reading just before each 5-minute edge
        moment = datetime.fromtimestamp(P + 300 * step - 1, UTC)
        period = period_of(moment.astimezone(SHANGHAI).hour)
        used = 1.0 if period == "valley" else 3.0
        main += used
        press += 0.5
        expected[period] += used
        hub.states.async_set("sensor.main_kwh", str(main), ENERGY, measured_at=moment)
        hub.states.async_set("sensor.press_kwh", str(press), ENERGY, measured_at=moment)
    await recorder.async_flush()

    months = sorted({datetime.fromtimestamp(P + offset, SHANGHAI).strftime("%Y-%m")
                     for offset in (0, 2 * HOUR - 1)})
    totals = {"valley": 0.0, "peak": 0.0}
    for month in months:
        report = await hub.services.async_call(
            "energy", "report", {"entity_id": "sensor.main_kwh", "month": month},
            return_response=True)
        assert report["approximate"] is False
        for name in totals:
            totals[name] += report["periods"][name]["kwh"]
    assert totals == expected

    month = months[0]
    costs = await hub.services.async_call("energy", "costs", {"month": month},
                                          return_response=True)
    if len(months) == 1:
        nodes = costs["nodes"]
        assert nodes["main"]["amount"] == expected["valley"] + expected["peak"] == 48.0
        assert nodes["press"]["amount"] == 12.0
        assert nodes["rest"]["amount"] == 36.0
        assert nodes["main"]["cost"] == expected["valley"] * 0.4 + expected["peak"] * 1.0
        press_cost = 6 * 0.4 + 6 * 1.0
        centres = costs["cost_centres"]
        assert centres["冲压车间"]["cost"] == pytest.approx(0.75 * press_cost)
        assert centres["公用"]["cost"] == pytest.approx(
            0.25 * press_cost + nodes["rest"]["cost"])
        assert costs["total_tce"] == pytest.approx(48 * 0.3 / 1000)

    report = await hub.services.async_call(
        "energy", "report", {"node": "rest", "month": month}, return_response=True)
    assert report["entity_id"] is None and report["node"] == "rest"
    with pytest.raises(ServiceValidationError, match="not a meter of the energy meter tree"):
        await hub.services.async_call("energy", "report",
                                      {"entity_id": "sensor.other", "month": month},
                                      return_response=True)
    with pytest.raises(ServiceValidationError, match="YYYY-MM"):
        await hub.services.async_call("energy", "report",
                                      {"entity_id": "sensor.main_kwh", "month": "March"},
                                      return_response=True)
