"""The deck's Yang 36 line valley-share table, reproduced through recorder statistics.

15-minute consumption for 2022-02..2022-05 is built so each month's per-period totals are
the table's kWh (flat is the remainder), imported as interval values into the recorder's
long-term (hourly) statistics, and reported by the `energy.report` service and by
`plantpulse report tou` as a child process with the hub stopped.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import
from plantpulse.core.storage import ConfigDirLock

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENTITY = "sensor.yang36_kwh"

# PRODUCT.md, seed case "valley share": month -> (total, sharp, peak, valley) kWh and the
# deck's (truncated) shares sharp, peak, valley in %.
TABLE = {
    "2022-02": ((2_487_240, 152_040, 1_000_440, 624_120), (6.11, 40.22, 25.09)),
    "2022-03": ((3_096_240, 231_000, 963_480, 874_440), (7.46, 31.11, 28.24)),
    "2022-04": ((3_765_720, 279_720, 1_071_000, 1_050_840), (7.42, 28.44, 27.90)),
    "2022-05": ((3_310_440, 196_560, 790_440, 1_191_960), (5.93, 23.87, 36.00)),
}

# An hour-aligned tariff: the period of each local hour.
HOURS = {
    **dict.fromkeys(range(0, 8), "valley"),
    **dict.fromkeys((8, 9, 12, 13, 14, 15, 16, 22, 23), "flat"),
    **dict.fromkeys((10, 11, 17, 18, 21), "peak"),
    **dict.fromkeys((19, 20), "sharp"),
}

CONFIG = """
plantpulse:
  time_zone: Asia/Shanghai
  language: zh-CN
recorder:
energy:
  tariff: ningxia_10kv
  targets: {sharp: 5, peak: 20, valley: 40}
  tariffs:
    ningxia_10kv:
      versions:
        - valid_from: 2022-01-01
          prices: {sharp: 1.0, peak: 0.8, flat: 0.5, valley: 0.25}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "08:00", to: "10:00", period: flat}
            - {from: "10:00", to: "12:00", period: peak}
            - {from: "12:00", to: "17:00", period: flat}
            - {from: "17:00", to: "19:00", period: peak}
            - {from: "19:00", to: "21:00", period: sharp}
            - {from: "21:00", to: "22:00", period: peak}
            - {from: "22:00", to: "24:00", period: flat}
        - valid_from: 2022-04-01
          prices: {sharp: 1.1, peak: 0.9, flat: 0.55, valley: 0.3}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "08:00", to: "10:00", period: flat}
            - {from: "10:00", to: "12:00", period: peak}
            - {from: "12:00", to: "17:00", period: flat}
            - {from: "17:00", to: "19:00", period: peak}
            - {from: "19:00", to: "21:00", period: sharp}
            - {from: "21:00", to: "22:00", period: peak}
            - {from: "22:00", to: "24:00", period: flat}
  meters:
    - id: yang36
      name: 阳36线 2号变进线
      level: line
      entity: sensor.yang36_kwh
"""

PRICES = {"2022-02": {"sharp": 1.0, "peak": 0.8, "flat": 0.5, "valley": 0.25},
          "2022-03": {"sharp": 1.0, "peak": 0.8, "flat": 0.5, "valley": 0.25},
          "2022-04": {"sharp": 1.1, "peak": 0.9, "flat": 0.55, "valley": 0.3},
          "2022-05": {"sharp": 1.1, "peak": 0.9, "flat": 0.55, "valley": 0.3}}


def month_targets(month: str) -> dict[str, int]:
    (total, sharp, peak, valley), _shares = TABLE[month]
    return {"sharp": sharp, "peak": peak, "valley": valley,
            "flat": total - sharp - peak - valley}


def fifteen_minute_rows(month: str) -> list[ImportRow]:
    """Whole-kWh consumption per 15 minutes, each period's monthly total spread evenly."""
    first = date.fromisoformat(f"{month}-01")
    end = (first + timedelta(days=32)).replace(day=1)
    starts = []
    moment = datetime(first.year, first.month, 1, tzinfo=SHANGHAI)
    while moment.date() < end:
        starts.append(moment)
        moment += timedelta(minutes=15)
    by_period: dict[str, list[datetime]] = {}
    for start in starts:
        by_period.setdefault(HOURS[start.hour], []).append(start)
    rows = []
    for period, total in month_targets(month).items():
        slots = by_period[period]
        base, extra = divmod(total, len(slots))
        for index, start in enumerate(slots):
            rows.append(ImportRow(ENTITY, start + timedelta(minutes=15),
                                  float(base + (index < extra)), "interval"))
    return sorted(rows, key=lambda row: row.time)


def expected_share(kwh: int, total: int, deck: float) -> None:
    share = round(kwh / total * 100, 2)
    assert share in (deck, round(deck + 0.01, 2)), (kwh, total, share, deck)


@pytest.fixture
async def yang36(hub_factory: Callable[..., Awaitable[Hub]], tmp_path: Path) -> Hub:
    hub = await hub_factory(CONFIG, config_dir=tmp_path / "plant")
    assert not hub.config_issues, hub.config_issues
    recorder = get_recorder(hub)
    assert recorder is not None
    rows = [row for month in TABLE for row in fifteen_minute_rows(month)]
    await async_import(recorder, rows, unit="kWh")
    return hub


async def test_a_month_without_all_its_data_is_marked_incomplete(yang36: Hub) -> None:
    for month in ("2022-01", "2022-06"):  # before and after the imported months
        report = await yang36.services.async_call(
            "energy", "report", {"entity_id": ENTITY, "month": month}, return_response=True)
        assert (report["total_kwh"], report["complete"]) == (0, False)


async def test_report_service_reproduces_the_deck_table(yang36: Hub) -> None:
    for month, ((total, sharp, peak, valley), (sharp_pct, peak_pct, valley_pct)) in \
            TABLE.items():
        report = await yang36.services.async_call(
            "energy", "report", {"entity_id": ENTITY, "month": month}, return_response=True)
        periods = report["periods"]
        assert report["entity_id"] == ENTITY and report["month"] == month
        assert report["total_kwh"] == total
        assert report["approximate"] is False
        assert report["complete"] is True
        assert periods["sharp"]["kwh"] == sharp
        assert periods["peak"]["kwh"] == peak
        assert periods["valley"]["kwh"] == valley
        assert periods["flat"]["kwh"] == total - sharp - peak - valley
        assert periods["deep_valley"] == {"kwh": 0, "share_pct": 0, "target_pct": None,
                                          "cost": 0}
        expected_share(sharp, total, sharp_pct)
        expected_share(peak, total, peak_pct)
        expected_share(valley, total, valley_pct)
        assert periods["sharp"]["share_pct"] == round(sharp / total * 100, 2)
        assert [periods[name]["target_pct"] for name in ("sharp", "peak", "valley")] == [
            5, 20, 40]
        for name, price in PRICES[month].items():
            assert periods[name]["cost"] == round(month_targets(month)[name] * price, 2)
        assert report["total_tce"] == pytest.approx(total * 0.1229 / 1000)
    march = await yang36.services.async_call(
        "energy", "report", {"entity_id": ENTITY, "month": "2022-03"}, return_response=True)
    assert march["periods"]["valley"]["share_pct"] == 28.24


def plantpulse(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plantpulse", *args], capture_output=True,
                          text=True, timeout=120, check=False)


async def test_cli_reads_the_stopped_hubs_database(yang36: Hub, tmp_path: Path) -> None:
    config_dir = str(yang36.config_dir)
    with ConfigDirLock(yang36.config_dir):  # as `plantpulse run` holds it
        result = plantpulse("report", "tou", "--config", config_dir, "--entity", ENTITY,
                            "--month", "2022-03", "--format", "json")
    assert result.returncode == 1
    assert "hub is running" in result.stderr
    assert "POST /api/services/energy/report?return_response" in result.stderr

    await yang36.async_stop()
    result = plantpulse("report", "tou", "--config", config_dir, "--entity", ENTITY,
                        "--month", "2022-03", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["total_kwh"] == 3_096_240
    assert report["periods"]["valley"] == {"kwh": 874_440, "share_pct": 28.24,
                                           "target_pct": 40, "cost": 218_610.0}

    result = plantpulse("report", "tou", "--config", config_dir, "--entity", ENTITY,
                        "--month", "2022-02", "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["月份", "时段", "电量(kWh)", "占比(%)", "目标占比(%)", "电费(元)"]
    assert rows[1][:4] == ["2022-02", "尖", "152040.0", "6.11"]
    assert rows[6][1:3] == ["合计", "2487240.0"]

    output = tmp_path / "yang36-2022-05.xlsx"
    result = plantpulse("report", "tou", "--config", config_dir, "--entity", ENTITY,
                        "--month", "2022-05", "--format", "xlsx", "--output", str(output))
    assert result.returncode == 0, result.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(output).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[2][:4] == ["2022-05", "尖", 196_560, 5.94]
    assert values[5][:4] == ["2022-05", "谷", 1_191_960, 36.01]

    result = plantpulse("report", "tou", "--config", config_dir, "--entity", ENTITY,
                        "--month", "2022-05", "--format", "xlsx")
    assert result.returncode == 1 and "--output" in result.stderr
    result = plantpulse("report", "tou", "--config", config_dir, "--entity", "sensor.nope",
                        "--month", "2022-05")
    assert result.returncode == 1 and "not a meter of the energy meter tree" in result.stderr
