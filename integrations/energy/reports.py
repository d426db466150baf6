"""Daily, monthly and yearly energy reports of a meter-tree node, and the row arithmetic the
balance and allocation share with them.

A report covers a local day (rows per hour), month (rows per day) or year (rows per month)
in the site's time zone: amount, cost, standard coal and the time-of-use split of the node,
each row's amount and cost per period, and the node's children with their share. Data and
rules are those of the monthly TOU report (report.py, cost.py): 5-minute statistics where
kept, hourly otherwise, virtual nodes computed per tariff segment. The unit consumption
indicators that count the node's energy are added over the production days of the period
(`unit_consumption`: energy, output, kWh/t or the like, quota and variance); production
days may start at e.g. 08:00 (shifts.py), so those figures are not cut at midnight.

As JSON (the `energy.energy_report` service), CSV and Excel (Chinese headers when the site
language is zh-CN).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.recorder import get_recorder
from plantpulse.core.services import ServiceCall, ServiceField, SupportsResponse
from plantpulse.integrations.energy.const import (
    DOMAIN,
    ENERGY_UNITS,
    PERIOD_NAMES_ZH,
    PERIODS,
    Period,
)
from plantpulse.integrations.energy.cost import (
    MeterSeries,
    tidy,
)
from plantpulse.integrations.energy.report import (
    Executor,
    NodeConsumption,
    ReportError,
    StatisticsSource,
    async_fetch_series,
)
from plantpulse.integrations.energy.standards import kgce_per_unit
from plantpulse.integrations.energy.tariff import Segments, Tariff, TariffError
from plantpulse.integrations.energy.tree import meters_below
from plantpulse.integrations.energy.unit_consumption import async_slot_figures, figures

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.integrations.energy.config import EnergyConfig

DAY: Final = "day"
MONTH: Final = "month"
YEAR: Final = "year"
HOUR: Final = "hour"
_PATTERNS: Final = {
    DAY: re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    MONTH: re.compile(r"(\d{4})-(\d{2})"),
    YEAR: re.compile(r"(\d{4})"),
}
_EXAMPLES: Final = {DAY: "2026-03-01", MONTH: "2026-03", YEAR: "2026"}
# The rows of each kind of report.
ROW_STEP: Final = {DAY: HOUR, MONTH: DAY, YEAR: MONTH}


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True, slots=True)
class Span:
    """A local day, month or year: from midnight of `first` to midnight of `end`."""

    kind: str
    first: date
    end: date
    zone: tzinfo

    @property
    def label(self) -> str:
        """'YYYY-MM-DD', 'YYYY-MM' or 'YYYY'."""
        return {DAY: self.first.isoformat(), MONTH: self.first.isoformat()[:7],
                YEAR: f"{self.first.year:04d}"}[self.kind]

    @property
    def start_time(self) -> datetime:
        """Local midnight of the first day."""
        return _midnight(self.first, self.zone)

    @property
    def end_time(self) -> datetime:
        """Local midnight after the last day."""
        return _midnight(self.end, self.zone)

    def previous(self) -> Span:
        """The span of the same kind just before."""
        day = self.first - timedelta(days=1)
        return span_of(self.kind, day.replace(day=1) if self.kind == MONTH
                       else day.replace(month=1, day=1) if self.kind == YEAR else day,
                       self.zone)


def _midnight(day: date, zone: tzinfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def span_of(kind: str, day: date, zone: tzinfo) -> Span:
    """The day, month or year holding `day`."""
    if kind == DAY:
        return Span(DAY, day, day + timedelta(days=1), zone)
    if kind == MONTH:
        first = day.replace(day=1)
        return Span(MONTH, first, _next_month(first), zone)
    first = day.replace(month=1, day=1)
    return Span(YEAR, first, first.replace(year=first.year + 1), zone)


def parse_span(kind: str, text: str, zone: tzinfo) -> Span:
    """'2026-03-01' for a day, '2026-03' for a month, '2026' for a year; ReportError else."""
    if kind not in _PATTERNS:
        raise ReportError(f"period must be one of {', '.join(_PATTERNS)}, got {kind!r}")
    match = _PATTERNS[kind].fullmatch(str(text).strip())
    try:
        if match is None:
            raise ValueError
        numbers = [int(group) for group in match.groups()]
        day = date(numbers[0], numbers[1] if len(numbers) > 1 else 1,
                   numbers[2] if len(numbers) > 2 else 1)
    except ValueError:
        raise ReportError(f"a {kind} is written like {_EXAMPLES[kind]}, got {text!r}") from None
    return span_of(kind, day, zone)


def boundaries(span: Span, step: str) -> np.ndarray:
    """POSIX times from the span's start to its end, one per `step` (hour, day, month)."""
    start, end = span.start_time.timestamp(), span.end_time.timestamp()
    if step == HOUR:
        return np.arange(start, end + 1, 3600.0)
    days = []
    day = span.first
    while day < span.end:
        days.append(day)
        day = day + timedelta(days=1) if step == DAY else _next_month(day)
    return np.array([_midnight(day, span.zone).timestamp() for day in [*days, span.end]])


@dataclass(frozen=True, slots=True)
class NodeRows:
    """A node's amount and cost per row and TOU period (`[row, PERIODS index]`)."""

    amounts: np.ndarray
    costs: np.ndarray
    approximate: bool
    complete: np.ndarray

    @property
    def row_amounts(self) -> np.ndarray:
        """Each row's amount, all periods together."""
        return self.amounts.sum(axis=1)


def _refine(segments: Segments, edges: np.ndarray) -> tuple[Segments, np.ndarray]:
    """The tariff segments cut at each row edge, and the row of each piece."""
    cuts = np.union1d(np.concatenate([segments.starts, segments.ends[-1:]]), edges)
    cuts = cuts[(cuts >= edges[0]) & (cuts <= edges[-1])]
    starts, ends = cuts[:-1], cuts[1:]
    index = np.clip(np.searchsorted(segments.starts, starts, side="right") - 1, 0,
                    len(segments.starts) - 1)
    rows = np.searchsorted(edges, starts, side="right") - 1
    return Segments(starts, ends, segments.periods[index], segments.prices[index]), rows


def compute_rows(config: EnergyConfig, node_ids: Sequence[str], span: Span, edges: np.ndarray,
                 series: Mapping[str, MeterSeries], *, priced: bool = True
                 ) -> dict[str, NodeRows]:
    """Amount and cost per row (between `edges`) and period of each node (blocking).

    Unpriced, or for a node without a tariff, everything is 'flat' at no price. A row is
    complete when every meter below the node has data from its start to its end.
    """
    flat = PERIODS.index(Period.FLAT)
    refined: dict[str | None, tuple[Segments, np.ndarray]] = {}
    count = len(edges) - 1

    def pieces(tariff: Tariff | None) -> tuple[Segments, np.ndarray]:
        key = tariff.name if tariff else None
        if key not in refined:
            base = (tariff.segments(span.first, span.end, span.zone) if tariff else
                    Segments(edges[:1].copy(), edges[-1:].copy(), np.array([flat]),
                             np.array([0.0])))
            refined[key] = _refine(base, edges)
        return refined[key]

    values = NodeConsumption(config, series, lambda tariff: pieces(tariff)[0])

    result = {}
    size = len(PERIODS)
    for node_id in node_ids:
        node = config.nodes[node_id]
        tariff = config.tariffs.get(node.tariff) if priced and node.tariff else None
        segments, rows = pieces(tariff)
        per_piece, approximate = values(node_id, tariff)
        slots = rows * size + segments.periods
        amounts = np.bincount(slots, weights=per_piece, minlength=count * size)
        costs = np.bincount(slots, weights=per_piece * segments.prices, minlength=count * size)
        complete = np.ones(count, dtype=bool)
        for meter in meters_below(node_id, config.nodes):
            times = series.get(config.nodes[meter].entity_id or "")
            if times is None or len(times.times) == 0:
                complete[:] = False
            else:
                complete &= (edges[:-1] >= times.times[0]) & (edges[1:] <= times.times[-1])
        result[node_id] = NodeRows(amounts.reshape(count, size), costs.reshape(count, size),
                                   approximate, complete)
    return result


async def async_rows(executor: Executor, source: StatisticsSource, config: EnergyConfig,
                     node_ids: Sequence[str], span: Span, step: str, *,
                     priced: bool = True) -> tuple[np.ndarray, dict[str, NodeRows]]:
    """Read the statistics the nodes need and compute their rows per `step`."""
    entity_ids = [config.nodes[meter].entity_id for node_id in node_ids
                  for meter in meters_below(node_id, config.nodes)]
    series = await async_fetch_series(source, [entity_id for entity_id in entity_ids
                                               if entity_id is not None],
                                      span.start_time, span.end_time)
    edges = boundaries(span, step)
    rows = await executor.async_add_executor_job(
        lambda: compute_rows(config, node_ids, span, edges, series, priced=priced))
    return edges, rows


def row_label(moment: float, step: str, zone: tzinfo) -> str:
    """'HH:MM', 'YYYY-MM-DD' or 'YYYY-MM' of a row starting at `moment`."""
    local = datetime.fromtimestamp(moment, zone)
    return {HOUR: local.strftime("%H:%M"), DAY: local.date().isoformat(),
            MONTH: local.strftime("%Y-%m")}[step]


async def async_energy_report(executor: Executor, source: StatisticsSource,
                              config: EnergyConfig, node_id: str, span: Span,
                              currency: str) -> dict[str, Any]:
    """The report of a node for a day, month or year (see the module docstring)."""
    if node_id not in config.nodes:
        raise ReportError(f"no node '{node_id}' in the energy meter tree (nodes: "
                          f"{', '.join(config.nodes) or 'none'})")
    node = config.nodes[node_id]
    step = ROW_STEP[span.kind]
    edges, results = await async_rows(executor, source, config, [node_id, *node.children],
                                      span, step)
    own = results[node_id]
    total = float(own.amounts.sum())
    priced = node.tariff is not None
    kgce = total * kgce_per_unit(node.energy_type, config.coefficients)
    tou = {}
    if priced:
        for index, period in enumerate(PERIODS):
            amount = float(own.amounts[:, index].sum())
            tou[period.value] = {
                "amount": tidy(amount),
                "share_pct": round(amount / total * 100, 2) if total else 0.0,
                "target_pct": node.targets.get(period),
                "cost": round(float(own.costs[:, index].sum()), 2),
            }
    rows = []
    for row, moment in enumerate(edges[:-1]):
        entry: dict[str, Any] = {
            "label": row_label(float(moment), step, span.zone),
            "start": datetime.fromtimestamp(float(moment), span.zone).isoformat(),
            "amount": tidy(own.amounts[row].sum()),
            "cost": round(float(own.costs[row].sum()), 2) if priced else None,
            "complete": bool(own.complete[row]),
        }
        if priced:
            entry["tou"] = {period.value: tidy(own.amounts[row, index])
                            for index, period in enumerate(PERIODS)}
        rows.append(entry)
    children = []
    for child_id in node.children:
        child = config.nodes[child_id]
        amount = float(results[child_id].amounts.sum())
        children.append({
            "node": child_id, "name": child.name, "type": child.energy_type.value,
            "unit": ENERGY_UNITS[child.energy_type], "amount": tidy(amount),
            "cost": (round(float(results[child_id].costs.sum()), 2) if child.tariff
                     else None),
            "share_pct": (round(amount / total * 100, 2)
                          if total and child.energy_type == node.energy_type else None),
        })
    return {
        "unit_consumption": await _async_unit_consumption(executor, source, config, node_id,
                                                          span),
        "node": node_id,
        "name": node.name,
        "entity_id": node.entity_id,
        "type": node.energy_type.value,
        "unit": ENERGY_UNITS[node.energy_type],
        "period": span.kind,
        "date": span.label,
        "start": span.start_time.isoformat(),
        "end": span.end_time.isoformat(),
        "tariff": node.tariff,
        "currency": currency,
        "amount": tidy(total),
        "cost": round(float(own.costs.sum()), 2) if priced else None,
        "tce": round(kgce / 1000, 6),
        "approximate": own.approximate,
        "complete": bool(own.complete.all()),
        "tou": tou,
        "rows": rows,
        "children": children,
    }


async def _async_unit_consumption(executor: Executor, source: StatisticsSource,
                                  config: EnergyConfig, node_id: str,
                                  span: Span) -> list[dict[str, Any]]:
    """The unit consumption indicators that count this node's energy, over the production
    days of the span (a production day may start at e.g. 08:00, so these figures run from
    the first day's start to the last day's end, not midnight to midnight)."""
    indicators = [indicator for indicator in config.unit_consumption.values()
                  if node_id in indicator.energy]
    if not indicators:
        return []
    last_day = span.end - timedelta(days=1)
    slots = config.shifts.slots(span.first, last_day, span.zone)
    found = []
    for indicator in indicators:
        data = await async_slot_figures(executor, source, config, indicator.energy,
                                        indicator.output, slots, indicator.basis)
        found.append({
            "indicator": indicator.indicator_id, "name": indicator.name,
            "product": indicator.product,
            "unit": f"{data.energy_unit}/{indicator.output_unit or 't'}",
            "production_days": [span.first.isoformat(), last_day.isoformat()],
            "quota": indicator.quota, "approximate": data.approximate,
            **figures(float(data.energy.sum()), float(data.output.sum()), indicator.quota),
        })
    return found


# CSV and Excel -------------------------------------------------------------------------------

_WORDS: Final = {
    "zh-CN": {
        "node": "节点", "period": "报表周期", "date": "日期", "amount": "用量", "cost": "费用",
        "tce": "折标准煤(tce)", "tou": "时段", "share": "占比(%)", "target": "目标占比(%)",
        "time": "时间", "child": "下级节点", "total": "合计", "summary": "汇总",
        "detail": "明细", "children": "下级", "day": "日报", "month": "月报", "year": "年报",
        "incomplete": "数据不全", "indicator": "单耗指标", "energy": "能耗",
        "output": "产量", "unit_consumption": "单耗", "quota": "定额",
        "variance": "偏差(%)",
        "approximate": "注: 部分小时仅有小时统计且跨越时段边界, 已按时间比例拆分 (近似值)",
    },
    "en": {
        "node": "node", "period": "report", "date": "date", "amount": "amount", "cost": "cost",
        "tce": "tce", "tou": "period", "share": "share_pct", "target": "target_pct",
        "time": "time", "child": "child", "total": "total", "summary": "summary",
        "detail": "detail", "children": "children", "day": "daily", "month": "monthly",
        "year": "yearly", "incomplete": "incomplete data", "indicator": "indicator",
        "energy": "energy", "output": "output", "unit_consumption": "unit consumption",
        "quota": "quota", "variance": "variance_pct",
        "approximate": "note: some hours with only hourly statistics span a period change "
                       "and were split in proportion to time (approximate)",
    },
}


def _words(language: str) -> dict[str, str]:
    return _WORDS["zh-CN" if language == "zh-CN" else "en"]


def _period_name(period: Period, language: str) -> str:
    return PERIOD_NAMES_ZH[period] if language == "zh-CN" else period.value


def report_sections(report: Mapping[str, Any], language: str) -> list[tuple[str, list[list[Any]]]]:
    """The report as titled tables: summary (with the TOU split), rows, children."""
    words = _words(language)
    unit = report["unit"]
    money = "元" if language == "zh-CN" and report["currency"] == "CNY" else report["currency"]
    summary: list[list[Any]] = [
        [words["node"], f"{report['name']} ({report['node']})"],
        [words["period"], words[report["period"]]],
        [words["date"], report["date"]],
        [f"{words['amount']}({unit})", report["amount"]],
        [f"{words['cost']}({money})", "" if report["cost"] is None else report["cost"]],
        [words["tce"], report["tce"]],
    ]
    if report["tou"]:
        summary.append([])
        summary.append([words["tou"], f"{words['amount']}({unit})", words["share"],
                        words["target"], f"{words['cost']}({money})"])
        for period in PERIODS:
            values = report["tou"][period.value]
            summary.append([_period_name(period, language), values["amount"],
                            values["share_pct"],
                            "" if values["target_pct"] is None else values["target_pct"],
                            values["cost"]])
    if report["approximate"]:
        summary.append([words["approximate"]])
    priced = bool(report["tou"])
    header = [words["time"], f"{words['amount']}({unit})"]
    if priced:
        header += [f"{_period_name(period, language)}({unit})" for period in PERIODS]
        header.append(f"{words['cost']}({money})")
    detail: list[list[Any]] = [header]
    for row in report["rows"]:
        line = [row["label"], row["amount"]]
        if priced:
            line += [row["tou"][period.value] for period in PERIODS]
            line.append(row["cost"])
        if not row["complete"]:
            line.append(words["incomplete"])
        detail.append(line)
    detail.append([words["total"], report["amount"],
                   *([report["tou"][period.value]["amount"] for period in PERIODS]
                     + [report["cost"]] if priced else [])])
    children: list[list[Any]] = [[words["child"], words["amount"], words["share"],
                                  f"{words['cost']}({money})"]]
    for child in report["children"]:
        children.append([f"{child['name']} ({child['node']})",
                         f"{child['amount']} {child['unit']}" if child["unit"] != unit
                         else child["amount"],
                         "" if child["share_pct"] is None else child["share_pct"],
                         "" if child["cost"] is None else child["cost"]])
    sections = [(words["summary"], summary), (words["detail"], detail)]
    if report["children"]:
        sections.append((words["children"], children))
    if report["unit_consumption"]:
        unit_table: list[list[Any]] = [[words["indicator"], words["energy"], words["output"],
                                        words["unit_consumption"], words["quota"],
                                        words["variance"]]]
        for item in report["unit_consumption"]:
            unit_table.append([
                f"{item['name']} ({item['unit']})", item["energy"], item["output"],
                "" if item["unit_consumption"] is None else item["unit_consumption"],
                "" if item["quota"] is None else item["quota"],
                "" if item["variance_pct"] is None else item["variance_pct"]])
        sections.append((words["unit_consumption"], unit_table))
    return sections


def report_csv(report: Mapping[str, Any], language: str) -> str:
    """The report as CSV: its tables one after the other, a blank line between."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for index, (title, rows) in enumerate(report_sections(report, language)):
        if index:
            writer.writerow([])
        writer.writerow([f"# {title}"])
        writer.writerows(rows)
    return out.getvalue()


def write_report_xlsx(report: Mapping[str, Any], language: str, path: Path) -> None:
    """Write the report as an Excel workbook, one sheet per table (blocking)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, rows in report_sections(report, language):
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.column_dimensions["A"].width = 24
        for column in "BCDEFGHI":
            sheet.column_dimensions[column].width = 14
        for cell in sheet[1]:
            cell.font = Font(bold=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


# Service ------------------------------------------------------------------------------------

REPORT_SCHEMA: Final = vol.Schema({
    vol.Required("node"): cv.slug,
    vol.Required("period"): vol.In((DAY, MONTH, YEAR)),
    vol.Required("date"): cv.string,
})


def async_setup_report_service(hub: Hub, config: EnergyConfig) -> None:
    """Register `energy.energy_report`."""

    async def energy_report(call: ServiceCall) -> dict[str, Any]:
        try:
            span = parse_span(call.data["period"], call.data["date"], hub.site.tz)
            recorder = get_recorder(hub)
            if recorder is None:
                raise ReportError("reports read the recorder's statistics: add 'recorder:' "
                                  "to the configuration")
            return await async_energy_report(hub, recorder, config, call.data["node"], span,
                                              hub.site.currency)
        except (ReportError, TariffError) as err:
            raise ServiceValidationError(str(err)) from None

    hub.services.async_register(
        DOMAIN, "energy_report", energy_report, REPORT_SCHEMA,
        supports_response=SupportsResponse.ONLY, name="Energy report",
        description="A node's daily (rows per hour), monthly (per day) or yearly (per month) "
        "energy, cost, standard coal and time-of-use split, with its children's shares.",
        fields={
            "node": ServiceField("A node of the meter tree", example="main", required=True),
            "period": ServiceField("day, month or year", example="month", required=True),
            "date": ServiceField("2026-03-01, 2026-03 or 2026 (site time zone)",
                                 example="2026-03", required=True),
        },
    )
