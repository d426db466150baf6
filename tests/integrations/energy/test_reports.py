"""Daily, monthly and yearly energy reports of a node from hourly statistics (imported
2026-01..03): the `energy.energy_report` service, CSV with Chinese headers, an Excel
workbook from `plantpulse report energy` with the hub stopped, and the monthly report
generated on the hub clock and mailed with the workbook attached to a real SMTP server.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import
from plantpulse.integrations.energy.reports import report_csv
from tests.integrations.notify.servers import SmtpServer, attachment_names, body_text

SHANGHAI = ZoneInfo("Asia/Shanghai")
HubFactory = Callable[..., Awaitable[Hub]]

PRICES = {"valley": 0.3, "flat": 0.6, "peak": 1.0}


def period_of(hour: int) -> str:
    return "valley" if hour < 8 else "peak" if 18 <= hour < 22 else "flat"


def line_a(moment: datetime) -> float:
    return 10.0


def line_b(moment: datetime) -> float:
    return 5.0 + moment.hour + (moment.day % 3)


def site(moment: datetime) -> float:
    return line_a(moment) + line_b(moment) + 1.0


PROFILES = {"sensor.site_kwh": site, "sensor.line_a_kwh": line_a, "sensor.line_b_kwh": line_b}
FIRST, END = date(2026, 1, 1), date(2026, 4, 1)


def hours(first: date, end: date) -> list[datetime]:
    moment = datetime(first.year, first.month, first.day, tzinfo=SHANGHAI)
    stop = datetime(end.year, end.month, end.day, tzinfo=SHANGHAI)
    found = []
    while moment < stop:
        found.append(moment)
        moment += timedelta(hours=1)
    return found


def expected(profile: Callable[[datetime], float], first: date, end: date) -> dict[str, float]:
    """Amount per TOU period and cost over local days first..end."""
    totals = {"valley": 0.0, "flat": 0.0, "peak": 0.0, "cost": 0.0}
    for moment in hours(first, end):
        amount = profile(moment)
        totals[period_of(moment.hour)] += amount
        totals["cost"] += amount * PRICES[period_of(moment.hour)]
    return totals


def config(extra: str = "", language: str = "zh-CN") -> str:
    return f"""
plantpulse:
  time_zone: Asia/Shanghai
  language: {language}
recorder:
energy:
  tariff: simple
  tariffs:
    simple:
      versions:
        - valid_from: 2025-01-01
          prices: {{valley: 0.3, flat: 0.6, peak: 1.0}}
          schedule:
            - {{from: "00:00", to: "08:00", period: valley}}
            - {{from: "08:00", to: "18:00", period: flat}}
            - {{from: "18:00", to: "22:00", period: peak}}
            - {{from: "22:00", to: "24:00", period: flat}}
  meters:
    - id: site
      name: 总进线
      level: site
      entity: sensor.site_kwh
      children:
        - {{id: line_a, name: A线, entity: sensor.line_a_kwh}}
        - {{id: line_b, name: B线, entity: sensor.line_b_kwh}}
{extra}"""


async def load(hub: Hub) -> None:
    recorder = get_recorder(hub)
    assert recorder is not None
    rows = [ImportRow(entity_id, moment + timedelta(hours=1), profile(moment), "interval")
            for entity_id, profile in PROFILES.items() for moment in hours(FIRST, END)]
    await async_import(recorder, rows, unit="kWh")


def plantpulse(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plantpulse", *args], capture_output=True,
                          text=True, timeout=60, check=False)


async def report(hub: Hub, period: str, day: str, node: str = "site") -> dict:
    return await hub.services.async_call("energy", "energy_report",
                                         {"node": node, "period": period, "date": day},
                                         return_response=True)


async def test_daily_monthly_and_yearly_figures(hub_factory: HubFactory, tmp_path: Path) -> None:
    hub = await hub_factory(config(), config_dir=tmp_path / "plant")
    assert not hub.config_issues, hub.config_issues
    await load(hub)

    day = await report(hub, "day", "2026-03-01")
    want = expected(site, date(2026, 3, 1), date(2026, 3, 2))
    assert (day["period"], day["date"], day["unit"], day["currency"]) == ("day", "2026-03-01",
                                                                         "kWh", "CNY")
    assert day["amount"] == pytest.approx(want["valley"] + want["flat"] + want["peak"])
    assert day["cost"] == pytest.approx(want["cost"], abs=0.01)
    assert day["tou"]["peak"]["amount"] == pytest.approx(want["peak"])
    assert day["tou"]["valley"]["cost"] == pytest.approx(want["valley"] * 0.3, abs=0.01)
    assert day["tce"] == pytest.approx(day["amount"] * 0.1229 / 1000, abs=1e-6)
    assert day["complete"] is True and day["approximate"] is False
    assert [row["label"] for row in day["rows"]][:2] == ["00:00", "01:00"]
    at_19 = datetime(2026, 3, 1, 19, tzinfo=SHANGHAI)
    assert day["rows"][19]["amount"] == pytest.approx(site(at_19))
    assert day["rows"][19]["tou"]["peak"] == pytest.approx(site(at_19))
    assert day["rows"][19]["cost"] == pytest.approx(site(at_19) * 1.0)
    a, b = (sum(f(m) for m in hours(date(2026, 3, 1), date(2026, 3, 2))) for f in (line_a,
                                                                                   line_b))
    assert [(child["node"], child["amount"]) for child in day["children"]] == [
        ("line_a", pytest.approx(a)), ("line_b", pytest.approx(b))]
    assert day["children"][0]["share_pct"] == round(a / day["amount"] * 100, 2)

    month = await report(hub, "month", "2026-02")
    want = expected(site, date(2026, 2, 1), date(2026, 3, 1))
    assert len(month["rows"]) == 28 and month["rows"][0]["label"] == "2026-02-01"
    assert month["amount"] == pytest.approx(want["valley"] + want["flat"] + want["peak"])
    assert month["cost"] == pytest.approx(want["cost"], abs=0.01)
    feb_3 = expected(site, date(2026, 2, 3), date(2026, 2, 4))
    assert month["rows"][2]["amount"] == pytest.approx(feb_3["valley"] + feb_3["flat"]
                                                       + feb_3["peak"])

    year = await report(hub, "year", "2026")
    want = expected(site, FIRST, END)
    assert [row["label"] for row in year["rows"]][:4] == ["2026-01", "2026-02", "2026-03",
                                                          "2026-04"]
    assert year["amount"] == pytest.approx(want["valley"] + want["flat"] + want["peak"])
    assert year["rows"][1]["amount"] == pytest.approx(month["amount"])
    assert [row["complete"] for row in year["rows"][2:4]] == [True, False]
    assert year["rows"][3]["amount"] == 0 and year["complete"] is False

    text = report_csv(day, "zh-CN")
    tables: list[list[list[str]]] = []
    for row in csv.reader(io.StringIO(text)):
        if row and row[0].startswith("# "):
            tables.append([])
        if row:
            tables[-1].append(row)
    assert tables[0][0] == ["# 汇总"] and tables[0][1] == ["节点", "总进线 (site)"]
    assert ["时段", "用量(kWh)", "占比(%)", "目标占比(%)", "费用(元)"] in tables[0]
    assert tables[1][1][:3] == ["时间", "用量(kWh)", "尖(kWh)"]
    assert tables[1][-1][0] == "合计" and float(tables[1][-1][1]) == pytest.approx(
        day["amount"])
    assert tables[2][0] == ["# 下级"]
    assert report_csv(day, "en").splitlines()[1] == "node,总进线 (site)"

    for data, words in (({"node": "site", "period": "day", "date": "2026-03"}, "2026-03-01"),
                        ({"node": "nope", "period": "year", "date": "2026"}, "no node")):
        with pytest.raises(ServiceValidationError, match=words):
            await hub.services.async_call("energy", "energy_report", data,
                                          return_response=True)

    # The same report from the command line, with the hub stopped, as a workbook.
    await hub.async_stop()
    output = tmp_path / "march.xlsx"
    done = plantpulse("report", "energy", "--config", str(tmp_path / "plant"), "--node", "site",
                      "--period", "month", "--date", "2026-03", "--format", "xlsx",
                      "--output", str(output))
    assert done.returncode == 0, done.stderr
    book = load_workbook(output)
    assert book.sheetnames == ["汇总", "明细", "下级"]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row}
    march = expected(site, date(2026, 3, 1), date(2026, 4, 1))
    assert summary["日期"] == "2026-03" and summary["报表周期"] == "月报"
    assert summary["用量(kWh)"] == pytest.approx(march["valley"] + march["flat"]
                                               + march["peak"])
    assert summary["费用(元)"] == pytest.approx(march["cost"], abs=0.01)
    assert book["明细"].max_row == 1 + 31 + 1


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    await server.start()
    yield server
    await server.stop()


async def test_monthly_report_is_mailed_with_the_workbook(
    hub_factory: HubFactory, smtp: SmtpServer, tmp_path: Path
) -> None:
    # 07:59 on 2026-04-01 in Shanghai; the report is due at 08:00 on the first.
    clock = ManualClock(datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
    extra = f"""  reports:
    - {{name: monthly_energy, node: site, period: month, format: xlsx, at: "08:00", day: 1,
       notify: [ops_email]}}
notify:
  - name: ops_email
    urls: ['{smtp.url("energy@plant.example")}']
"""
    hub = await hub_factory(config(extra), clock=clock, config_dir=tmp_path / "plant")
    assert not hub.config_issues, hub.config_issues
    await load(hub)
    generated: list[dict] = []
    hub.bus.async_listen("energy_report_generated", lambda event: generated.append(event.data))

    await clock.advance(59)
    assert generated == [] and smtp.messages == []
    await clock.advance(1)
    await hub.async_block_till_done()
    assert generated == [{"name": "monthly_energy", "node": "site", "period": "month",
                          "date": "2026-03", "path": "reports/monthly_energy_2026-03.xlsx"}]
    [mail] = smtp.messages
    assert mail["Subject"] == "能源月报 总进线 2026-03"
    assert "总进线 2026-03: 用量" in body_text(mail)
    assert attachment_names(mail) == ["monthly_energy_2026-03.xlsx"]
    [part] = list(mail.iter_attachments())
    attached = tmp_path / "attached.xlsx"
    attached.write_bytes(part.get_content())
    book = load_workbook(attached)
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(values_only=True) if row}
    march = expected(site, date(2026, 3, 1), date(2026, 4, 1))
    assert summary["用量(kWh)"] == pytest.approx(march["valley"] + march["flat"]
                                               + march["peak"])
    assert summary["费用(元)"] == pytest.approx(march["cost"], abs=0.01)
    detail = list(book["明细"].iter_rows(values_only=True))
    assert detail[1][0] == "2026-03-01"
    first_day = expected(site, date(2026, 3, 1), date(2026, 3, 2))
    assert detail[1][1] == pytest.approx(first_day["valley"] + first_day["flat"]
                                         + first_day["peak"])
    assert (tmp_path / "plant" / "reports" / "monthly_energy_2026-03.xlsx").is_file()

    # The next run is a month later.
    await clock.advance_to(datetime(2026, 4, 30, 23, 59, tzinfo=UTC))
    assert len(generated) == 1
    await clock.advance(60)
    await hub.async_block_till_done()
    assert [item["date"] for item in generated] == ["2026-03", "2026-04"]


async def test_unit_consumption_of_the_node_in_its_reports(hub_factory: HubFactory) -> None:
    """Line A's kWh per tonne over the production days of the month (they start at 00:00
    here), from its meter and an output counter imported with it."""
    hub = await hub_factory(config(
        "  unit_consumption:\n"
        "    - {id: line_a_unit, name: A线电单耗, energy: line_a, output: sensor.line_a_t,"
        " quota: 4.0}\n"))
    assert not hub.config_issues, hub.config_issues
    await load(hub)
    recorder = get_recorder(hub)
    assert recorder is not None
    await async_import(recorder, [
        ImportRow("sensor.line_a_t", moment + timedelta(hours=1), 2.0, "interval")
        for moment in hours(FIRST, END)], unit="t")

    month = await report(hub, "month", "2026-02", node="line_a")
    [unit] = month["unit_consumption"]
    assert (unit["indicator"], unit["unit"], unit["quota"]) == ("line_a_unit", "kWh/t", 4.0)
    assert unit["production_days"] == ["2026-02-01", "2026-02-28"]
    assert unit["energy"] == pytest.approx(10.0 * 24 * 28)
    assert unit["output"] == pytest.approx(2.0 * 24 * 28)
    assert unit["unit_consumption"] == pytest.approx(5.0)
    assert unit["variance_pct"] == pytest.approx(25.0)
    assert (await report(hub, "month", "2026-02"))["unit_consumption"] == []  # site: none
    tables = report_csv(month, "zh-CN")
    assert "# 单耗" in tables and "A线电单耗 (kWh/t),6720.0,1344.0,5.0,4.0,25.0" in tables
