"""Shared meters split between cost centres: the compressed-air meter by the measured share
of each workshop's own line meter hour by hour (with its TOU cost), the lighting by the
fixed cost_centre shares of the tree, from a day of hourly statistics.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import

SHANGHAI = ZoneInfo("Asia/Shanghai")
HubFactory = Callable[..., Awaitable[Hub]]

CONFIG = """
plantpulse:
  time_zone: Asia/Shanghai
recorder:
energy:
  tariff: simple
  tariffs:
    simple:
      versions:
        - valid_from: 2025-01-01
          prices: {valley: 0.3, flat: 0.6, peak: 1.0}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "08:00", to: "18:00", period: flat}
            - {from: "18:00", to: "22:00", period: peak}
            - {from: "22:00", to: "24:00", period: flat}
  allocation:
    - node: air
      by: measured
      centres: {一车间: [ws1_line], 二车间: [ws2_line]}
  meters:
    - id: site
      entity: sensor.site_kwh
      children:
        - {id: ws1_line, entity: sensor.ws1_kwh, cost_centre: 一车间}
        - {id: ws2_line, entity: sensor.ws2_kwh, cost_centre: 二车间}
        - {id: air, name: 空压站, entity: sensor.air_kwh}
        - id: lighting
          entity: sensor.lighting_kwh
          cost_centre: {一车间: 0.7, 二车间: 0.3}
"""

PRICE = [0.3] * 8 + [0.6] * 10 + [1.0] * 4 + [0.6] * 2
WS1 = [10.0 if 8 <= hour < 18 else 0.0 for hour in range(24)]
WS2 = [0.0 if hour in (2, 3) else 5.0 + hour for hour in range(24)]
AIR = [20.0 + hour % 4 for hour in range(24)]
LIGHTING = [4.0] * 24
PROFILES = {"sensor.ws1_kwh": WS1, "sensor.ws2_kwh": WS2, "sensor.air_kwh": AIR,
            "sensor.lighting_kwh": LIGHTING,
            "sensor.site_kwh": [sum(values) for values in zip(WS1, WS2, AIR, LIGHTING,
                                                              strict=True)]}


async def test_measured_and_fixed_shares(hub_factory: HubFactory) -> None:
    hub = await hub_factory(CONFIG)
    assert not hub.config_issues, hub.config_issues
    recorder = get_recorder(hub)
    assert recorder is not None
    midnight = datetime(2026, 3, 1, tzinfo=SHANGHAI)
    await async_import(recorder, [
        ImportRow(entity_id, midnight + timedelta(hours=hour + 1), amount, "interval")
        for entity_id, amounts in PROFILES.items() for hour, amount in enumerate(amounts)
    ], unit="kWh")

    result = await hub.services.async_call("energy", "allocation",
                                           {"period": "day", "date": "2026-03-01"},
                                           return_response=True)
    assert set(result["meters"]) == {"air", "lighting"}

    air = result["meters"]["air"]
    ws1_kwh = ws1_cost = ws2_kwh = ws2_cost = left_kwh = left_cost = 0.0
    for hour in range(24):
        measured = WS1[hour] + WS2[hour]
        if measured == 0:  # 02:00-04:00: neither workshop ran, nothing to share by
            left_kwh += AIR[hour]
            left_cost += AIR[hour] * PRICE[hour]
            continue
        ws1_kwh += AIR[hour] * WS1[hour] / measured
        ws1_cost += AIR[hour] * PRICE[hour] * WS1[hour] / measured
        ws2_kwh += AIR[hour] * WS2[hour] / measured
        ws2_cost += AIR[hour] * PRICE[hour] * WS2[hour] / measured
    assert (air["method"], air["interval"], air["name"]) == ("measured", "hour", "空压站")
    assert air["amount"] == pytest.approx(sum(AIR))
    assert air["cost"] == pytest.approx(sum(a * p for a, p in zip(AIR, PRICE, strict=True)),
                                        abs=0.01)
    assert air["centres"]["一车间"]["amount"] == pytest.approx(ws1_kwh, abs=1e-6)
    assert air["centres"]["一车间"]["cost"] == pytest.approx(ws1_cost, abs=0.01)
    assert air["centres"]["二车间"]["amount"] == pytest.approx(ws2_kwh, abs=1e-6)
    assert air["centres"]["二车间"]["cost"] == pytest.approx(ws2_cost, abs=0.01)
    assert air["unallocated"] == {"amount": pytest.approx(left_kwh),
                                  "cost": pytest.approx(left_cost, abs=0.01)}
    assert air["centres"]["一车间"]["share_pct"] == round(ws1_kwh / sum(AIR) * 100, 2)
    # Not the daily ratio: hour by hour, the day shift's air goes mostly to workshop 1.
    daily = sum(AIR) * sum(WS1) / (sum(WS1) + sum(WS2))
    assert abs(air["centres"]["一车间"]["amount"] - daily) > 1

    lighting = result["meters"]["lighting"]
    assert (lighting["method"], lighting["amount"]) == ("ratio", pytest.approx(96.0))
    light_cost = sum(4.0 * price for price in PRICE)
    assert lighting["centres"]["一车间"] == {"amount": pytest.approx(96 * 0.7),
                                           "cost": pytest.approx(light_cost * 0.7, abs=0.01),
                                           "share_pct": 70.0}
    assert lighting["unallocated"]["amount"] == 0

    centres = result["cost_centres"]
    assert centres["一车间"]["amounts"]["kWh"] == pytest.approx(ws1_kwh + 96 * 0.7, abs=1e-6)
    assert centres["二车间"]["cost"] == pytest.approx(ws2_cost + light_cost * 0.3, abs=0.02)


async def test_a_measured_rule_needs_its_centres(hub_factory: HubFactory) -> None:
    hub = await hub_factory(CONFIG.replace("      centres: {一车间: [ws1_line], 二车间: "
                                           "[ws2_line]}\n", ""))
    assert any("needs 'centres'" in str(issue) for issue in hub.config_issues)
    hub = await hub_factory(CONFIG.replace("[ws2_line]", "[ws3_line]"))
    assert any("ws3_line" in str(issue) for issue in hub.config_issues)
