"""The bill of a reading-day billing month and the basic charge advice, computed by hand
from hourly history imported into the recorder's statistics; the power-factor table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import
from plantpulse.integrations.energy.power_factor import (
    adjustment_percent,
    power_factor_of,
    round_power_factor,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")

CONFIG = """
recorder:
energy:
  tariff: grid
  tariffs:
    grid:
      versions:
        - valid_from: 2024-01-01
          prices: {valley: 0.3, flat: 0.6}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "08:00", to: "24:00", period: flat}
  meters:
    - id: main
      name: 2号变进线
      entity: sensor.main_kwh
  billing:
    - id: main
      meter: main
      reading_day: 25
      basic_charge:
        method: contract_demand
        capacity_kva: 1000
        capacity_price: 21
        demand_price: 30
        contract_demand: 500
      power_factor:
        standard: 0.90
        reactive: sensor.main_kvarh
"""

# One hour of each billing month is the peak: 700 kWh in February's, 600 in March's.
PEAKS = {datetime(2024, 2, 10, 10, tzinfo=SHANGHAI): 700.0,
         datetime(2024, 3, 10, 10, tzinfo=SHANGHAI): 600.0}


def hourly_rows() -> list[ImportRow]:
    """Valley hours 100 kWh, flat hours 200 kWh, kvarh half the kWh, from 2024-01-25 to
    2024-03-25 (local midnights, the reading day 25)."""
    rows = []
    moment = datetime(2024, 1, 25, tzinfo=SHANGHAI)
    while moment < datetime(2024, 3, 25, tzinfo=SHANGHAI):
        kwh = PEAKS.get(moment, 100.0 if moment.hour < 8 else 200.0)
        end = moment + timedelta(hours=1)
        rows.append(ImportRow("sensor.main_kwh", end, kwh, "interval"))
        rows.append(ImportRow("sensor.main_kvarh", end, kwh / 2, "interval"))
        moment = end
    return rows


@pytest.fixture
async def plant(hub_factory: Callable[..., Awaitable[Hub]]) -> Hub:
    hub = await hub_factory(CONFIG, clock=ManualClock(datetime(2024, 4, 1, tzinfo=UTC)))
    assert not hub.config_issues, hub.config_issues
    recorder = get_recorder(hub)
    assert recorder is not None
    rows = hourly_rows()
    # ImportRow interval rows start at the previous row's time: one import per statistic.
    await async_import(recorder, [row for row in rows if row.statistic_id == "sensor.main_kwh"],
                       unit="kWh")
    await async_import(recorder, [row for row in rows if row.statistic_id != "sensor.main_kwh"],
                       unit="kvarh")
    return hub


async def test_bill_of_a_reading_day_month(plant: Hub) -> None:
    bill = await plant.services.async_call("energy", "bill", {"month": "2024-03"},
                                           return_response=True)
    # 2024-02-25 00:00 to 2024-03-25 00:00 local: 29 days (a leap February).
    assert bill["start"] == "2024-02-25T00:00:00+08:00"
    assert bill["end"] == "2024-03-25T00:00:00+08:00"
    energy = bill["energy"]
    assert energy["periods"]["valley"] == {"kwh": 29 * 800, "cost": 29 * 800 * 0.3}
    assert energy["periods"]["flat"] == {"kwh": 29 * 3200 + 400, "cost": 93_200 * 0.6}
    assert energy["kwh"] == 116_400 and energy["cost"] == 62_880
    # Hourly statistics only: the maximum is the highest hourly average, and says so.
    demand = bill["demand"]
    assert demand["max_kw"] == 600 and demand["resolution"] == "hour"
    assert demand["at"] == "2024-03-10T02:00:00+00:00"
    assert "cannot be known" in demand["note"]
    # Contract 500 kW: up to 525 kW charged as 500; the 75 kW above 525 at double price.
    basic = bill["basic_charge"]
    assert basic["contract_kw"] == 500 and basic["band_kw"] == 525
    assert basic["excess_kw"] == 75
    assert basic["charge"] == 525 * 30 + 75 * 30 * 2 == 20_250
    assert basic["kwh_per_kva"] == 116.4  # below 260: the full demand price
    # kvarh = kWh / 2: cos φ = 1/√1.25 = 0.894 -> 0.89, 0.01 below 0.90: +0.5 %.
    pf = bill["power_factor"]
    assert pf["value"] == 0.89 and pf["kvarh"] == 58_200
    assert pf["adjustment_pct"] == 0.5
    assert pf["adjustment"] == round((62_880 + 20_250) * 0.005, 2) == 415.65
    assert bill["total"] == 62_880 + 20_250 + 415.65

    # The grid's own bill says 480 kW: within 105 % of the contract, so the contract is paid.
    given = await plant.services.async_call(
        "energy", "bill", {"month": "2024-03", "max_demand_kw": 480}, return_response=True)
    assert given["basic_charge"]["charge"] == 500 * 30
    assert given["demand"]["resolution"] == "given"
    assert given["total"] == round((62_880 + 15_000) * 1.005, 2)

    with pytest.raises(ServiceValidationError, match="one of main"):
        await plant.services.async_call("energy", "bill",
                                        {"account": "other", "month": "2024-03"},
                                        return_response=True)


async def test_basic_charge_advice(plant: Hub) -> None:
    advice = await plant.services.async_call("energy", "basic_charge_advice", {"months": 2},
                                             return_response=True)
    # Now is 2024-04-01 08:00 local, in the billing month 2024-04 (from 25 March): the two
    # closed ones are 2024-02 (31 days, peak 700 kW) and 2024-03 (29 days, peak 600 kW).
    assert [month["month"] for month in advice["months"]] == ["2024-02", "2024-03"]
    assert [month["max_demand"]["max_kw"] for month in advice["months"]] == [700, 600]
    assert [month["kwh"] for month in advice["months"]] == [31 * 4000 + 500, 116_400]
    february, march = (month["charges"] for month in advice["months"])
    assert february["capacity"] == march["capacity"] == 1000 * 21
    assert (february["actual_demand"], march["actual_demand"]) == (700 * 30, 600 * 30)
    assert february["contract_demand"] == 525 * 30 + 175 * 30 * 2 == 26_250
    assert march["contract_demand"] == 20_250
    # The cheapest contract: 700 / 1.05 kW, so February's peak is just within 105 %.
    assert advice["suggested_contract_kw"] == pytest.approx(666.667)
    assert february["best_contract_demand"] == march["best_contract_demand"] == 20_000
    assert advice["monthly_average"] == {"capacity": 21_000, "actual_demand": 19_500,
                                         "contract_demand": 23_250,
                                         "best_contract_demand": 20_000}
    assert advice["cheapest"] == "actual_demand"
    assert advice["saving_per_month"] == 23_250 - 19_500
    assert advice["projected"]["actual_demand"] == 3 * 19_500
    assert advice["saving_over_horizon"] == 3 * 3_750
    assert advice["notes"] and "hourly average" in advice["notes"][0]


def test_power_factor_table() -> None:
    # 《功率因数调整电费办法》: standard 0.90
    assert [adjustment_percent(value, 0.90) for value in
            (1.0, 0.95, 0.94, 0.91, 0.90, 0.89, 0.80, 0.70, 0.69, 0.65, 0.64, 0.60)] == [
        -0.75, -0.75, -0.6, -0.15, 0, 0.5, 5, 10, 11, 15, 17, 25]
    # standard 0.85
    assert [adjustment_percent(value, 0.85) for value in
            (1.0, 0.94, 0.93, 0.91, 0.90, 0.86, 0.85, 0.84, 0.65, 0.64, 0.60, 0.59)] == [
        -1.1, -1.1, -0.95, -0.65, -0.5, -0.1, 0, 0.5, 10, 11, 15, 17]
    # standard 0.80
    assert [adjustment_percent(value, 0.80) for value in
            (1.0, 0.92, 0.91, 0.90, 0.81, 0.80, 0.79, 0.60, 0.55, 0.54)] == [
        -1.3, -1.3, -1.15, -1.0, -0.1, 0, 0.5, 10, 15, 17]
    # The month's power factor is rounded to two places, halves up, before the look-up.
    assert round_power_factor(0.895) == 0.90 and round_power_factor(0.8949) == 0.89
    assert power_factor_of(100, 0) == 1.0 and power_factor_of(0, 5) is None
    assert round_power_factor(power_factor_of(300, 400)) == 0.6
    with pytest.raises(ValueError, match=r"0\.90, 0\.85, 0\.80"):
        adjustment_percent(0.9, 0.95)
