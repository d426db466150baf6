"""Unit consumption through the recorder: live readings on a ManualClock (5-minute statistics,
shift edges at half past) and imported hourly history (the deck's vertical mill drift case,
team ranking under 四班三倒, total consumption in tce)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import
from tests.conftest import HubFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENERGY = {"unit_of_measurement": "kWh", "state_class": "total_increasing",
          "device_class": "energy"}
ROTATION = """
    rotation: {anchor: 2026-03-01, teams: [甲, 乙, 丙, 丁], days_per_shift: 2}"""


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def call(hub: Hub, service: str, **data: object) -> dict:
    return await hub.services.async_call("energy", service, data, return_response=True)


# Live: 5-minute statistics, shifts 07:30 / 15:30 / 23:30 -----------------------------------

LIVE = f"""
plantpulse:
  time_zone: Asia/Shanghai
recorder:
  commit_interval: 0
  auto_purge: false
production:
  mill_output: {{product: raw_meal, scope: equipment, target: mill}}
energy:
  meters:
    - id: mill
      entity: sensor.mill_kwh
    - id: old_mill
      entity: sensor.old_mill_kwh
  shifts:
    day_start: "07:30"
    shifts:
      - {{name: 早班, from: "07:30", to: "15:30"}}
      - {{name: 中班, from: "15:30", to: "23:30"}}
      - {{name: 夜班, from: "23:30", to: "07:30"}}{ROTATION}
  unit_consumption:
    - id: mill_power
      name: 立磨电单耗
      energy: mill
      output: sensor.mill_output
      quota: 23.5
"""


def live_rate(moment: datetime) -> tuple[float, float]:
    """kWh and t in the 5 minutes ending at `moment` (local)."""
    minutes = moment.hour * 60 + moment.minute
    if minutes <= 7 * 60 + 30:
        return 200.0, 8.0      # night shift of 03-01 (team 丙): 25.0 kWh/t
    if minutes <= 15 * 60 + 30:
        return 188.0, 8.0      # early shift of 03-02 (team 甲): 23.5 kWh/t
    return 160.0, 8.0          # late shift of 03-02 (team 丁): 20.0 kWh/t


async def test_live_readings_by_shift_and_team(hub_factory: HubFactory) -> None:
    clock = ManualClock(local(2026, 3, 2, 7, 0))
    hub = await hub_factory(LIVE, clock=clock)
    assert not hub.config_issues, hub.config_issues
    recorder = get_recorder(hub)
    assert recorder is not None
    kwh = 5000.0
    hub.states.async_set("sensor.mill_kwh", str(kwh), ENERGY)
    await hub.services.async_call("production", "record",
                                  {"entity_id": "sensor.mill_output", "counter": 1000})
    for _step in range(108):  # 07:00 .. 16:00, a reading just before each 5-minute edge
        await clock.advance(299)
        energy, output = live_rate(clock.now().astimezone(SHANGHAI) + timedelta(seconds=1))
        kwh += energy
        hub.states.async_set("sensor.mill_kwh", str(kwh), ENERGY)
        await hub.services.async_call("production", "record",
                                      {"entity_id": "sensor.mill_output", "quantity": output})
        await clock.advance(1)
    await clock.advance(120)
    await hub.async_block_till_done()
    await recorder.async_flush()

    result = await call(hub, "unit_consumption", indicator="mill_power", group_by="slot",
                        **{"from": "2026-03-01", "to": "2026-03-02"})
    assert result["unit"] == "kWh/t" and result["approximate"] is False
    groups = {entry["key"]: entry for entry in result["groups"]}
    assert groups["2026-03-01 早班"]["unit_consumption"] is None
    assert groups["2026-03-01 夜班"] == {
        "key": "2026-03-01 夜班", "energy": 1200, "output": 48, "unit_consumption": 25.0,
        "variance": 1.5, "variance_pct": 6.38, "shifts": 1}
    assert groups["2026-03-02 早班"]["energy"] == 96 * 188 == 18_048
    assert groups["2026-03-02 早班"]["output"] == 768
    assert groups["2026-03-02 早班"]["unit_consumption"] == 23.5
    assert groups["2026-03-02 早班"]["variance"] == 0
    assert groups["2026-03-02 中班"]["unit_consumption"] == 20.0
    assert result["total"]["energy"] == 1200 + 18_048 + 960
    assert result["total"]["unit_consumption"] == pytest.approx(20_208 / 864, abs=1e-6)
    assert result["total"]["tce"] == pytest.approx(20_208 * 0.1229 / 1000)

    by_day = await call(hub, "unit_consumption", indicator="mill_power", group_by="day",
                        **{"from": "2026-03-01", "to": "2026-03-02"})
    assert [(entry["key"], entry["unit_consumption"]) for entry in by_day["groups"]] == [
        ("2026-03-01", 25.0), ("2026-03-02", pytest.approx(19_008 / 816, abs=1e-6))]

    # 03-01 (cycle row 0): 甲 early, 丁 late, 丙 night; 03-02 (row 1) the same.
    ranking = await call(hub, "team_ranking", indicator="mill_power",
                         **{"from": "2026-03-01", "to": "2026-03-02"})
    assert [(row["rank"], row["team"], row["unit_consumption"]) for row in
            ranking["ranking"]] == [(1, "丁", 20.0), (2, "甲", 23.5), (3, "丙", 25.0),
                                    (None, "乙", None)]
    assert ranking["ranking"][0]["variance"] == -3.5
    assert ranking["ranking"][0]["variance_pct"] == -14.89
    assert ranking["ranking"][0]["energy"] == 960 and ranking["ranking"][0]["shifts"] == 2

    # Which team is on now (16:02): the late shift of 03-02, team 丁.
    slot = hub.data["energy"].shifts.slot_at(clock.now(), SHANGHAI)
    assert (slot.day, slot.shift.name, slot.team) == (date(2026, 3, 2), "中班", "丁")

    # The sensor of today's production day, refreshed every 5 minutes (next: 16:05).
    await clock.advance_to(local(2026, 3, 2, 16, 6))
    await hub.async_block_till_done()
    sensor = hub.states.get("sensor.mill_power_unit_consumption_today")
    assert sensor is not None
    assert float(sensor.state) == pytest.approx(19_008 / 816, abs=1e-6)
    assert sensor.attributes["unit_of_measurement"] == "kWh/t"
    assert sensor.attributes["friendly_name"] == "立磨电单耗 今日单耗"
    assert (sensor.attributes["production_day"], sensor.attributes["shift"],
            sensor.attributes["team"]) == ("2026-03-02", "中班", "丁")
    assert sensor.attributes["variance_pct"] == round((19_008 / 816 - 23.5) / 23.5 * 100, 2)

    # Default period: today's production day (03-02).
    today = await call(hub, "unit_consumption", node="mill", output="sensor.mill_output",
                       group_by="shift")
    assert today["from"] == today["to"] == "2026-03-02"
    assert today["quota"] is None
    assert [(entry["key"], entry["unit_consumption"]) for entry in today["groups"]] == [
        ("早班", 23.5), ("中班", 20.0), ("夜班", None)]


async def test_hourly_history_at_half_hour_edges_is_approximate(
        hub_factory: HubFactory) -> None:
    hub = await hub_factory(LIVE, clock=ManualClock(local(2026, 3, 2, 7, 0)))
    recorder = get_recorder(hub)
    assert recorder is not None
    start = local(2026, 2, 10, 7)
    rows = []
    for hour in range(26):  # 02-10 07:00 .. 02-11 09:00, 100 kWh and 4 t an hour
        rows.append(ImportRow("sensor.old_mill_kwh", start + timedelta(hours=hour + 1),
                              100.0 + 20 * (hour % 2), "interval"))
        rows.append(ImportRow("sensor.old_mill_t", start + timedelta(hours=hour + 1), 4.0,
                              "interval"))
    await async_import(recorder, [row for row in rows if row.statistic_id.endswith("kwh")])
    await async_import(recorder, [row for row in rows if row.statistic_id.endswith("_t")],
                       unit="t")
    result = await call(hub, "unit_consumption", node="old_mill", output="sensor.old_mill_t",
                        date="2026-02-10", group_by="shift")
    assert result["approximate"] is True
    # 07:30-15:30: half of 07-08 (100 kWh), 08-15 (7 hours: 120, 100, 120, 100, 120, 100,
    # 120 = 780) and half of 15-16 (100): split in proportion to time.
    assert result["groups"][0]["energy"] == pytest.approx(50 + 780 + 50)
    assert result["groups"][0]["output"] == pytest.approx(32)
    assert result["total"]["output"] == pytest.approx(96)


# History: the deck's vertical mill (PRODUCT.md E8) -----------------------------------------

# Production days 2026-03-01 .. 04-02 (08:00 to 08:00), 100 t an hour. Each team runs the mill
# at its own rate; from 03-11 to 03-25 the process parameters were wrong and every team used
# 6.4 kWh/t more; from 03-26 the mill is back at 23.5 kWh/t.
TEAM_RATE = {"甲": 23.0, "乙": 23.4, "丙": 23.6, "丁": 24.0}
DRIFT = (date(2026, 3, 11), date(2026, 3, 25))
CYCLE = [("甲", "丁", "丙"), ("乙", "甲", "丁"), ("丙", "乙", "甲"), ("丁", "丙", "乙")]
FIRST, LAST = date(2026, 3, 1), date(2026, 4, 2)

HISTORY = f"""
plantpulse:
  time_zone: Asia/Shanghai
  language: zh-CN
recorder:
  commit_interval: 0
  auto_purge: false
alarm:
energy:
  meters:
    - id: workshop
      name: 生料车间
      level: workshop
      entity: sensor.workshop_kwh
      children:
        - id: mill
          name: 一号立磨
          level: equipment
          entity: sensor.mill_kwh
        - id: furnace_gas
          type: natural_gas
          entity: sensor.gas_m3
          children:
            - id: burner
              entity: sensor.burner_m3
        - id: water
          type: water
          entity: sensor.water_m3
  shifts:
    day_start: "08:00"
    shifts:
      - {{name: 早班, from: "08:00", to: "16:00"}}
      - {{name: 中班, from: "16:00", to: "24:00"}}
      - {{name: 夜班, from: "00:00", to: "08:00"}}{ROTATION}
  unit_consumption:
    - id: mill_power
      name: 立磨电单耗
      product: 生料
      energy: mill
      output: sensor.mill_output
      output_unit: t
      quota: 23.5
      price: 0.5
      drift: {{threshold_pct: 5, days: 3}}
    - id: workshop_total
      name: 生料综合单耗
      energy: [workshop, furnace_gas]
      output: sensor.mill_output
      drift: {{against: baseline, threshold_pct: 10, days: 3, baseline_days: 7}}
"""


def team_on(day: date, shift: int) -> str:
    return CYCLE[((day - FIRST).days // 2) % 4][shift]


def rate(day: date, shift: int) -> float:
    extra = 6.4 if DRIFT[0] <= day <= DRIFT[1] else 0.0
    return TEAM_RATE[team_on(day, shift)] + extra


def history_rows() -> list[ImportRow]:
    rows = []
    day = FIRST
    while day <= LAST:
        begins = local(day.year, day.month, day.day, 8)
        for hour in range(24):
            end = begins + timedelta(hours=hour + 1)
            mill = rate(day, hour // 8) * 100
            rows += [ImportRow("sensor.mill_kwh", end, mill, "interval"),
                     ImportRow("sensor.workshop_kwh", end, mill + 200, "interval"),
                     ImportRow("sensor.gas_m3", end, 50.0, "interval"),
                     ImportRow("sensor.burner_m3", end, 30.0, "interval"),
                     ImportRow("sensor.water_m3", end, 10.0, "interval"),
                     ImportRow("sensor.mill_output", end, 100.0, "interval")]
        day += timedelta(days=1)
    return rows


@pytest.fixture
async def mill(hub_factory: HubFactory) -> tuple[Hub, ManualClock]:
    clock = ManualClock(local(2026, 3, 14, 7, 0))
    hub = await hub_factory(HISTORY, clock=clock)
    assert not hub.config_issues, hub.config_issues
    recorder = get_recorder(hub)
    assert recorder is not None
    rows = history_rows()
    for unit, ids in (("kWh", ("sensor.mill_kwh", "sensor.workshop_kwh")),
                      ("m³", ("sensor.gas_m3", "sensor.burner_m3", "sensor.water_m3")),
                      ("t", ("sensor.mill_output",))):
        await async_import(recorder, [row for row in rows if row.statistic_id in ids],
                           unit=unit)
    return hub, clock


async def test_teams_rank_and_the_mill_returns_to_its_quota(mill: tuple[Hub, ManualClock]
                                                             ) -> None:
    hub, _clock = mill
    # 03-01..03-10: 8 days are one full cycle (6 shifts a team), then rows 0 and 1 again
    # (甲 early, 丁 late, 丙 night): 甲, 丙, 丁 8 shifts, 乙 6; 800 t a shift.
    ranking = await call(hub, "team_ranking", indicator="mill_power",
                         **{"from": "2026-03-01", "to": "2026-03-10"})
    assert ranking["unit"] == "kWh/t" and ranking["approximate"] is False
    assert [(row["rank"], row["team"], row["unit_consumption"], row["shifts"], row["energy"],
             row["output"]) for row in ranking["ranking"]] == [
        (1, "甲", 23.0, 8, pytest.approx(147_200), 6400),
        (2, "乙", 23.4, 6, pytest.approx(112_320), 4800),
        (3, "丙", 23.6, 8, pytest.approx(151_040), 6400),
        (4, "丁", 24.0, 8, pytest.approx(153_600), 6400)]
    assert [row["variance_pct"] for row in ranking["ranking"]] == [-2.13, -0.43, 0.43, 2.13]

    # A full cycle before and after the drift: every team 6 shifts, (23.0+23.4+23.6+24)/4.
    for first, last in (("2026-03-01", "2026-03-08"), ("2026-03-26", "2026-04-02")):
        result = await call(hub, "unit_consumption", indicator="mill_power",
                            group_by="none", **{"from": first, "to": last})
        assert result["total"]["unit_consumption"] == 23.5
        assert result["total"]["output"] == 8 * 2400 and result["total"]["variance"] == 0

    # Day 03-02 by shift: 甲 23.0, 丁 24.0, 丙 23.6 (8 hours x 100 t each).
    day = await call(hub, "unit_consumption", indicator="mill_power", date="2026-03-02",
                     group_by="shift")
    assert [(entry["key"], entry["energy"], entry["unit_consumption"])
            for entry in day["groups"]] == [("早班", 18_400, 23.0), ("中班", 19_200, 24.0),
                                            ("夜班", 18_880, 23.6)]
    assert day["product"] == "生料" and day["output_unit"] == "t"

    month = await call(hub, "unit_consumption", indicator="mill_power", month="2026-03",
                       group_by="month")
    assert month["from"] == "2026-03-01" and month["to"] == "2026-03-31"
    assert [entry["key"] for entry in month["groups"]] == ["2026-03"]
    assert month["groups"][0]["output"] == 31 * 2400


async def test_drift_names_the_day_it_started(mill: tuple[Hub, ManualClock]) -> None:
    hub, _clock = mill
    # Checked on 03-31: the run of 03-11..03-25 is over (the mill is back at 23.5 kWh/t).
    # Excess over the quota, 45 shifts of 800 t: 6.4 kWh/t each, plus the teams' deviations
    # from 23.5 (甲 11 shifts x -0.5, 乙 12 x -0.1, 丙 11 x +0.1, 丁 11 x +0.5 = -0.1):
    # (45 x 6.4 - 0.1) x 800 = 230,320 kWh, at 0.5 元/kWh 115,160 元 (the deck: ¥115k
    # over 15 days).
    result = await call(hub, "unit_consumption_drift", indicator="mill_power",
                        date="2026-03-31")
    assert result["drifting"] is False and result["started"] is None
    assert len(result["runs"]) == 1
    run = result["runs"][0]
    assert (run["start"], run["end"], run["days"]) == ("2026-03-11", "2026-03-25", 15)
    assert run["reference"] == 23.5
    assert run["excess"] == pytest.approx(230_320)
    assert run["excess_cost"] == pytest.approx(115_160)
    assert run["unit_consumption"] == pytest.approx((45 * 29.9 - 0.1) / 45, abs=1e-6)
    assert result["last_day"]["variance"] is not None

    # Checked on 03-15: drifting for 5 days, since 03-11.
    result = await call(hub, "unit_consumption_drift", indicator="mill_power",
                        date="2026-03-15")
    assert result["drifting"] is True and result["started"] == "2026-03-11"
    assert result["days"] == 5
    # On 03-12 only 2 days: not yet a drift.
    result = await call(hub, "unit_consumption_drift", indicator="mill_power",
                        date="2026-03-12")
    assert result["drifting"] is False and result["runs"] == []

    # Against its own baseline (the 7 normal days before): the total indicator in kgce/t
    # (electricity 0.1229, gas 1.2143 kgce/m³) rises by 6.4 x 0.1229 / (~3.4) ≈ 23 % > 10 %.
    total = await call(hub, "unit_consumption_drift", indicator="workshop_total",
                       date="2026-03-20")
    assert total["unit"] == "kgce/t" and total["against"] == "baseline"
    assert total["drifting"] is True and total["started"] == "2026-03-11"


async def test_daily_check_raises_and_clears_the_alarm(mill: tuple[Hub, ManualClock]) -> None:
    hub, clock = mill
    alarms = hub.data["alarm"]
    assert alarms.get("unit_consumption_drift_mill_power") is None
    # Production day 03-13 ends at 03-14 08:00; the check runs 15 minutes later.
    await clock.advance_to(local(2026, 3, 14, 8, 16))
    await hub.async_block_till_done()
    alarm = alarms.get("unit_consumption_drift_mill_power")
    assert alarm is not None, [item.key for item in alarms.active()]
    assert alarm.data["started"] == "2026-03-11" and alarm.data["days"] == 3
    assert alarm.source == "sensor.mill_output"
    assert "自2026-03-11起连续3天高于定额23.5 kWh/t超过5%" in alarm.messages["zh-CN"]
    assert "since 2026-03-11" in alarm.messages["en"]
    baseline = alarms.get("unit_consumption_drift_workshop_total")
    assert baseline is not None and baseline.data["started"] == "2026-03-11"

    # After the fix on 03-26, the check after production day 03-26 clears both.
    await clock.advance_to(local(2026, 3, 27, 8, 16))
    await hub.async_block_till_done()
    assert alarms.get("unit_consumption_drift_mill_power") is None
    assert alarms.get("unit_consumption_drift_workshop_total") is None


async def test_total_consumption_in_tce(mill: tuple[Hub, ManualClock]) -> None:
    hub, _clock = mill
    # Production day 03-02: mill (23.0 + 24.0 + 23.6) x 800 = 56,480 kWh, the workshop
    # 200 kWh/h more = 61,280 kWh; gas 50 m³/h (the burner below it is part of it), water
    # 10 m³/h.
    result = await call(hub, "total_consumption", node="workshop", date="2026-03-02")
    assert result["nodes"] == ["workshop", "furnace_gas", "water"]
    by_type = result["by_type"]
    assert by_type["electricity"]["amount"] == 61_280
    assert by_type["natural_gas"] == {"amount": 1200, "unit": "m³", "kgce_per_unit": 1.2143,
                                      "tce": pytest.approx(1.45716)}
    assert by_type["water"]["amount"] == 240 and by_type["water"]["kgce_per_unit"] == 0.2571
    assert result["tce"] == pytest.approx((61_280 * 0.1229 + 1200 * 1.2143 + 240 * 0.2571)
                                          / 1000, abs=1e-6)
    assert result["tce"] == pytest.approx(9.050176, abs=1e-6)

    days = await call(hub, "total_consumption", node=["furnace_gas"], group_by="day",
                      **{"from": "2026-03-01", "to": "2026-03-03"})
    assert [(entry["key"], entry["tce"]) for entry in days["groups"]] == [
        (f"2026-03-0{day}", pytest.approx(1.45716)) for day in (1, 2, 3)]

    # kgce per tonne of the electricity and gas together.
    combined = await call(hub, "unit_consumption", indicator="workshop_total",
                          date="2026-03-02", group_by="none")
    assert combined["unit"] == "kgce/t"
    assert combined["total"]["unit_consumption"] == pytest.approx(
        (61_280 * 0.1229 + 1200 * 1.2143) / 2400, abs=1e-6)
    # Water per tonne, by node and output without an indicator.
    water = await call(hub, "unit_consumption", node="water", output="sensor.mill_output",
                       date="2026-03-02", group_by="none")
    assert water["unit"] == "m³/t" and water["total"]["unit_consumption"] == 0.1
    # The mill alone converted with basis kgce.
    kgce = await call(hub, "unit_consumption", indicator="mill_power", basis="kgce",
                      date="2026-03-02", group_by="none")
    assert kgce["total"]["unit_consumption"] == pytest.approx(56_480 * 0.1229 / 2400,
                                                              abs=1e-6)


async def test_bad_requests(mill: tuple[Hub, ManualClock]) -> None:
    hub, _clock = mill
    with pytest.raises(ServiceValidationError, match=r"no unit consumption 'nope'.*mill_power"):
        await call(hub, "unit_consumption", indicator="nope")
    with pytest.raises(ServiceValidationError, match="give 'indicator', or 'node' and"):
        await call(hub, "unit_consumption", node="mill")
    with pytest.raises(ServiceValidationError, match="no node ghost"):
        await call(hub, "total_consumption", node="ghost")
    with pytest.raises(ServiceValidationError, match="YYYY-MM"):
        await call(hub, "team_ranking", indicator="mill_power", month="March")
    with pytest.raises(ServiceValidationError, match="before"):
        await call(hub, "unit_consumption", indicator="mill_power",
                   **{"from": "2026-03-05", "to": "2026-03-01"})


async def test_config_errors(hub_factory: HubFactory) -> None:
    hub = await hub_factory("""
energy:
  meters:
    - id: mill
      entity: sensor.mill_kwh
  unit_consumption:
    - id: mill_power
      energy: [mill, ghost]
      output: sensor.mill_output
""")
    assert any("names unknown node(s) ghost" in str(issue) for issue in hub.config_issues), \
        hub.config_issues
    hub = await hub_factory("""
energy:
  meters:
    - id: mill
      entity: sensor.mill_kwh
  unit_consumption:
    - id: mill_power
      energy: mill
      output: sensor.mill_output
      drift: {days: 3}
""")
    assert any("needs 'quota'" in str(issue) for issue in hub.config_issues), \
        hub.config_issues


def test_utc_is_not_assumed() -> None:
    assert local(2026, 3, 2, 8).astimezone(UTC).hour == 0
