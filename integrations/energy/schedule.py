"""Scheduled reports: each `reports:` item generated for the last closed period on the hub
clock, written to `<config>/reports/<name>_<date>.<format>` and sent to its notify targets
with the file attached (the notify integration; without it the file is only written).

A daily report runs every day at `at` (local time) for the day before; a monthly one on
`day` of each month for the month before; a yearly one on `day` of `month` for the year
before. Each run fires `energy_report_generated` {name, node, period, date, path}.
Also sets up the balance, allocation and report services (one call from async_setup).
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from plantpulse.core.hub import StopStage
from plantpulse.core.recorder import get_recorder
from plantpulse.integrations.energy.allocation import async_setup_allocation
from plantpulse.integrations.energy.balance import async_setup_balance
from plantpulse.integrations.energy.report import ReportError
from plantpulse.integrations.energy.reports import (
    DAY,
    MONTH,
    async_energy_report,
    async_setup_report_service,
    report_csv,
    span_of,
    write_report_xlsx,
)
from plantpulse.integrations.energy.tariff import TariffError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.integrations.energy.config import EnergyConfig
    from plantpulse.integrations.energy.options import ScheduledReport

_LOGGER = logging.getLogger(__name__)

EVENT_REPORT_GENERATED: Final = "energy_report_generated"
REPORTS_DIR: Final = "reports"
_TITLES: Final = {
    "zh-CN": {"day": "能源日报", "month": "能源月报", "year": "能源年报"},
    "en": {"day": "Daily energy report", "month": "Monthly energy report",
           "year": "Yearly energy report"},
}


def next_run(report: ScheduledReport, now: datetime) -> datetime:
    """The first moment after `now` (aware, in the site zone) the report is due."""
    zone = now.tzinfo
    day = now.date()
    while True:
        due = (report.period == DAY
               or (day.day == report.day
                   and (report.period == MONTH or day.month == report.month)))
        if due:
            moment = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
                minutes=report.at)
            if moment > now:
                return moment
        day += timedelta(days=1)


def _summary(report: dict[str, Any], language: str) -> str:
    unit, money = report["unit"], report["currency"]
    cost = "" if report["cost"] is None else f"{report['cost']:.2f} {money}"
    if language == "zh-CN":
        return (f"{report['name']} {report['date']}: 用量 {report['amount']:.2f} {unit}"
                + (f", 费用 {cost}" if cost else "") + f", 折标准煤 {report['tce']} tce."
                + ("" if report["complete"] else " (部分时段数据不全)"))
    return (f"{report['name']} {report['date']}: {report['amount']:.2f} {unit}"
            + (f", cost {cost}" if cost else "") + f", {report['tce']} tce."
            + ("" if report["complete"] else " (some periods have incomplete data)"))


class ReportSchedule:
    """Runs the configured reports on the hub clock."""

    def __init__(self, hub: Hub, config: EnergyConfig) -> None:
        self._hub = hub
        self._config = config
        self._cancels: dict[str, Any] = {}

    def async_start(self) -> None:
        """Schedule every report's next run."""
        for report in self._config.reports:
            self._schedule(report)

    def async_stop(self) -> None:
        """Cancel the pending runs."""
        for cancel in self._cancels.values():
            cancel()
        self._cancels.clear()

    def _schedule(self, report: ScheduledReport) -> None:
        moment = next_run(report, self._hub.clock.now().astimezone(self._hub.site.tz))

        async def run() -> None:
            self._schedule(report)
            try:
                await self.async_generate(report, moment.date())
            except (ReportError, TariffError, OSError) as err:
                _LOGGER.error("Scheduled report %s failed: %s", report.name, err)

        self._cancels[report.name] = self._hub.async_call_at(
            moment, run, f"energy report {report.name}")

    async def async_generate(self, report: ScheduledReport, run_day: date) -> Path:
        """Write the report of the period before `run_day` and send it; the file's path."""
        hub = self._hub
        recorder = get_recorder(hub)
        if recorder is None:
            raise ReportError("reports read the recorder's statistics: add 'recorder:'")
        span = span_of(report.period, run_day, hub.site.tz).previous()
        data = await async_energy_report(hub, recorder, self._config, report.node, span,
                                         hub.site.currency)
        language = "zh-CN" if hub.site.language == "zh-CN" else "en"
        relative = f"{REPORTS_DIR}/{report.name}_{span.label}.{report.format}"
        path = hub.path(relative)
        await hub.async_add_executor_job(_write, data, language, report.format, path)
        _LOGGER.info("Report %s for %s written to %s", report.name, span.label, path)
        hub.bus.async_fire(EVENT_REPORT_GENERATED, {
            "name": report.name, "node": report.node, "period": report.period,
            "date": span.label, "path": relative})
        notifier = hub.data.get("notify")
        if report.notify and notifier is None:
            _LOGGER.warning("Report %s: no notify integration to send it to %s", report.name,
                            ", ".join(report.notify))
            return path
        title = f"{_TITLES[language][report.period]} {data['name']} {span.label}"
        for target in report.notify:
            try:
                await notifier.async_send(target, _summary(data, language), title=title,
                                          data={"attachments": [relative]})
            except ValueError as err:
                _LOGGER.error("Report %s not sent to %s: %s", report.name, target, err)
        return path


def _write(data: dict[str, Any], language: str, kind: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "xlsx":
        write_report_xlsx(data, language, path)
    elif kind == "csv":
        path.write_text(report_csv(data, language), encoding="utf-8-sig")
    else:
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")


def async_setup_reporting(hub: Hub, config: EnergyConfig) -> None:
    """Register the balance, allocation and report services and start the schedules."""
    async_setup_balance(hub, config)
    async_setup_allocation(hub, config)
    async_setup_report_service(hub, config)
    if config.reports:
        schedule = ReportSchedule(hub, config)
        schedule.async_start()
        hub.async_on_stop(schedule.async_stop, StopStage.INTEGRATIONS)
