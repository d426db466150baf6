"""Statistics: time-weighted means, meter sums across resets, late data, local days, catch-up.

Readings carry explicit measured times in the recent past. Those periods are already closed
when the readings arrive, so each test also exercises the late-data path: the periods are
marked and recompiled, and `async_flush` waits for that.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pytest import approx

from plantpulse.core.hub import Hub
from plantpulse.core.recorder import Period, Recorder, StatisticType
from tests.core.recorder.conftest import RecorderHub, execute, query

POWER = {"unit_of_measurement": "kW", "state_class": "measurement"}
ENERGY = {"unit_of_measurement": "kWh", "state_class": "total_increasing",
          "device_class": "energy"}
HOUR = 3600

# The start of the UTC hour two hours ago: every 5-minute period used below has closed.
P = int(time.time() // HOUR * HOUR) - 2 * HOUR


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(P + seconds, UTC)


def iso(seconds: float) -> str:
    """A period label as the recorder gives it: in the site's zone (Asia/Shanghai here)."""
    return at(seconds).astimezone(ZoneInfo("Asia/Shanghai")).isoformat()


async def readings(hub: Hub, rec: Recorder, entity_id: str, attributes: dict[str, Any],
                   series: list[tuple[float, str]]) -> None:
    for seconds, value in series:
        hub.states.async_set(entity_id, value, attributes, measured_at=at(seconds))
    await rec.async_flush()


async def five_minute(rec: Recorder, entity_id: str, begin: float,
                      end: float) -> list[dict[str, Any]]:
    result = await rec.async_get_statistics([entity_id], "5minute", at(begin), at(end))
    return result.get(entity_id, [])


async def test_time_weighted_mean_min_max(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    await readings(hub, rec, "sensor.line_power", POWER, [
        (-60, "0"), (0, "10"), (60, "20"), (240, "40"),
        (400, "unavailable"), (500, "10"),
    ])
    rows = await five_minute(rec, "sensor.line_power", 0, 600)

    assert rows == [
        {"start": iso(0), "end": iso(300), "mean": approx(22.0), "min": 10.0, "max": 40.0,
         "sum": None, "state": None, "change": None},
        {"start": iso(300), "end": iso(600), "mean": approx(25.0), "min": 10.0, "max": 40.0,
         "sum": None, "state": None, "change": None},
    ]
    hourly = await rec.async_get_statistics(["sensor.line_power"], "hour", at(0), at(HOUR),
                                            types={"mean", "min", "max"})
    assert hourly == {"sensor.line_power": [
        {"start": iso(0), "end": iso(HOUR), "mean": approx((22 + 25 + 10 * 10) / 12),
         "min": 10.0, "max": 40.0},
    ]}


async def test_meter_sum_continues_across_a_reset(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    await readings(hub, rec, "sensor.main_energy", ENERGY, [
        (0, "100"), (60, "110"), (120, "120"), (180, "5"), (240, "8"), (330, "10"),
    ])
    rows = await five_minute(rec, "sensor.main_energy", 0, 600)
    assert [(row["sum"], row["state"], row["change"], row["mean"]) for row in rows] == [
        (28.0, 8.0, 28.0, None), (30.0, 10.0, 2.0, None),
    ]


async def test_small_dip_is_noise_not_a_reset(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    await readings(hub, rec, "sensor.water", ENERGY, [
        (0, "100"), (60, "99.5"), (120, "100.2"), (360, "101"),
    ])
    rows = await five_minute(rec, "sensor.water", 0, 600)
    assert [row["sum"] for row in rows] == [approx(0.2), approx(1.0)]
    assert [row["state"] for row in rows] == [100.2, 101.0]
    assert max(row["change"] for row in rows) < 1.0


async def test_late_reading_recompiles_a_closed_period(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    await readings(hub, rec, "sensor.kiln_power", POWER, [(0, "10"), (150, "30")])
    assert [row["mean"] for row in await five_minute(rec, "sensor.kiln_power", 0, 300)] == [
        approx(20.0)
    ]
    backfilled = []
    hub.bus.async_listen("state_backfilled", backfilled.append)
    await readings(hub, rec, "sensor.kiln_power", POWER, [(100, "50")])

    assert len(backfilled) == 1
    rows = await five_minute(rec, "sensor.kiln_power", 0, 300)
    assert [(row["mean"], row["max"]) for row in rows] == [(approx(8000 / 300), 50.0)]


async def test_buffered_readings_after_an_outage_move_consumption_back(
    recorder_hub: RecorderHub
) -> None:
    hub, rec = await recorder_hub()
    await readings(hub, rec, "sensor.line3_energy", ENERGY, [(-300, "100"), (600, "130")])
    before = await five_minute(rec, "sensor.line3_energy", 0, 1200)
    assert [row["change"] for row in before] == [0.0, 0.0, 30.0, 0.0]

    await readings(hub, rec, "sensor.line3_energy", ENERGY, [(100, "105"), (400, "118")])
    after = await five_minute(rec, "sensor.line3_energy", 0, 1200)
    assert [row["change"] for row in after] == [5.0, 13.0, 12.0, 0.0]
    assert [row["sum"] for row in after] == [5.0, 18.0, 30.0, 30.0]


async def test_late_reset_shifts_the_later_sums(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    await readings(hub, rec, "sensor.press_energy", ENERGY,
                   [(0, "100"), (300, "110"), (600, "120")])
    assert [row["sum"] for row in await five_minute(rec, "sensor.press_energy", 0, 1500)] == [
        0.0, 10.0, 20.0, 20.0, 20.0,
    ]
    await readings(hub, rec, "sensor.press_energy", ENERGY, [(200, "50")])

    rows = await five_minute(rec, "sensor.press_energy", 0, 1500)
    assert [row["sum"] for row in rows] == [50.0, 110.0, 120.0, 120.0, 120.0]
    hours = await rec.async_get_statistics(["sensor.press_energy"], "hour", at(0), at(2 * HOUR))
    assert [row["sum"] for row in hours["sensor.press_energy"]] == [120.0, 120.0]


@pytest.mark.parametrize(("zone", "offset"), [("Asia/Shanghai", "+08:00"),
                                              ("Asia/Kolkata", "+05:30")])
async def test_daily_roll_up_uses_the_local_day(
    recorder_hub: RecorderHub, zone: str, offset: str
) -> None:
    hub, rec = await recorder_hub(time_zone=zone)
    local = (datetime.now(UTC) - timedelta(hours=3)).astimezone(hub.site.tz)
    local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    midnight = local.astimezone(UTC)
    for step in range(9):
        hub.states.async_set("sensor.boiler_gas", str(step), ENERGY,
                             measured_at=midnight + timedelta(minutes=30 * (step - 4)))
    await rec.async_flush()

    days = await rec.async_get_statistics(
        ["sensor.boiler_gas"], "day", midnight - timedelta(hours=12),
        midnight + timedelta(hours=3), types={"sum", "change"},
    )
    assert days == {"sensor.boiler_gas": [
        {"start": (local - timedelta(days=1)).isoformat(), "end": local.isoformat(),
         "sum": 3.0, "change": 3.0},
        {"start": local.isoformat(), "end": (local + timedelta(days=1)).isoformat(),
         "sum": 8.0, "change": 5.0},
    ]}
    assert days["sensor.boiler_gas"][1]["start"].endswith(f"T00:00:00{offset}")
    months = await rec.async_get_statistics(["sensor.boiler_gas"], "month",
                                            midnight - timedelta(days=1), midnight,
                                            types={"change"})
    assert sum(row["change"] for row in months["sensor.boiler_gas"]) == 8.0


async def test_periods_missed_while_down_are_compiled_at_start(
    recorder_hub: RecorderHub, tmp_path
) -> None:
    folder = tmp_path / "plant"
    hub, rec = await recorder_hub(config_dir=folder)
    await readings(hub, rec, "sensor.fan_power", POWER, [(0, "4"), (150, "8"), (700, "6")])
    await hub.async_stop()
    execute(rec.db_path, "DELETE FROM statistics_short_term", "DELETE FROM statistics",
            "DELETE FROM statistics_runs",
            f"INSERT INTO statistics_runs (start_s) VALUES ({P - 300})")
    assert query(rec.db_path, "SELECT COUNT(*) FROM statistics_short_term") == [(0,)]

    hub, rec = await recorder_hub(config_dir=folder)
    await rec.async_flush()
    rows = await five_minute(rec, "sensor.fan_power", 0, 900)
    assert [row["mean"] for row in rows] == [approx(6.0), approx(8.0), approx(20 / 3)]
    hours = await rec.async_get_statistics(["sensor.fan_power"], "hour", at(0), at(HOUR))
    assert len(hours["sensor.fan_power"]) == 1


async def test_unknown_period_is_refused(recorder_hub: RecorderHub) -> None:
    _hub, rec = await recorder_hub()
    with pytest.raises(ValueError, match="unknown statistics period 'week'"):
        await rec.async_get_statistics(["sensor.a"], "week", at(0))


async def test_epoch_milliseconds_for_the_websocket(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    await readings(hub, rec, "sensor.line_power", POWER, [(0, "10"), (150, "30")])
    rows = await rec.async_get_statistics(["sensor.line_power"], Period.FIVE_MINUTE, at(0),
                                          at(300), types={StatisticType.MEAN}, epoch_ms=True)
    assert rows == {"sensor.line_power": [
        {"start": P * 1000.0, "end": (P + 300) * 1000.0, "mean": approx(20.0)},
    ]}


async def test_days_in_a_half_hour_zone_outlive_the_five_minute_rows(
    recorder_hub: RecorderHub
) -> None:
    hub, rec = await recorder_hub(time_zone="Asia/Kolkata")
    local = (datetime.now(UTC) - timedelta(hours=3)).astimezone(hub.site.tz)
    local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    midnight = local.astimezone(UTC)
    for step in range(9):
        hub.states.async_set("sensor.boiler_gas", str(step), ENERGY,
                             measured_at=midnight + timedelta(minutes=30 * (step - 4)))
    await rec.async_flush()
    span = (midnight - timedelta(hours=12), midnight + timedelta(hours=3))
    days = await rec.async_get_statistics(["sensor.boiler_gas"], "day", *span,
                                          types={"sum", "change"})
    assert [(row["sum"], row["change"]) for row in days["sensor.boiler_gas"]] == [
        (3.0, 3.0), (8.0, 5.0)
    ]

    # 5-minute rows are kept keep_5minute_days (90 by default); hourly ones for good. Once the
    # purge has taken them, the hour across midnight (18:00-19:00 UTC) counts with the day
    # it starts in.
    execute(rec.db_path, "DELETE FROM statistics_short_term")
    days = await rec.async_get_statistics(["sensor.boiler_gas"], "day", *span,
                                          types={"sum", "change"})
    assert [(row["start"], row["sum"], row["change"]) for row in days["sensor.boiler_gas"]] == [
        ((local - timedelta(days=1)).isoformat(), 4.0, 4.0), (local.isoformat(), 8.0, 4.0)
    ]
