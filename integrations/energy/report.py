"""Monthly time-of-use reports and cost per node and cost centre, from recorder statistics.

Data: the meters' 5-minute statistics where they exist (kept `keep_5minute_days`) and hourly
ones otherwise (kept for years; imported history is hourly). Each consumption interval lands
in the tariff segment holding it; an hour known only as a whole that spans a change of period
is split in proportion to time and the report says `"approximate": true` (see cost.py).
`"complete": false` says some meter below the node has no data for part of the month (a month
still running, a meter added later, history not imported): its figures are partial.
Months run from local midnight to local midnight in the site's time zone. Virtual nodes are
computed per tariff segment from the nodes they name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final, Protocol

import numpy as np

from plantpulse.core.exceptions import PlantPulseError
from plantpulse.integrations.energy.config import EnergyConfig
from plantpulse.integrations.energy.const import ENERGY_UNITS, PERIODS, Period
from plantpulse.integrations.energy.cost import (
    MeterSeries,
    PeriodTotals,
    consumption_by_segment,
    series_from_statistics,
    tidy,
    totals_by_period,
)
from plantpulse.integrations.energy.standards import kgce_per_unit
from plantpulse.integrations.energy.tariff import Segments, Tariff
from plantpulse.integrations.energy.tree import MeterNode, meters_below

_MONTH: Final = re.compile(r"(\d{4})-(\d{2})")
_TYPES: Final = {"sum", "change"}


class ReportError(PlantPulseError):
    """A report cannot be made as asked; the message says why."""


class StatisticsSource(Protocol):
    """What reports read: the recorder (or its statistics reader, for the CLI)."""

    async def async_get_statistics(
        self, statistic_ids: list[str], period: str, start: datetime, end: datetime | None,
        types: set[str] | None, *, epoch_ms: bool = False,
    ) -> dict[str, list[dict[str, Any]]]:
        """Statistics rows per id (see Recorder.async_get_statistics)."""


class Executor(Protocol):
    """Runs blocking work off the loop (the hub)."""

    async def async_add_executor_job(self, target: Any, *args: Any) -> Any:
        """Run `target(*args)` in a worker thread."""


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in the site's time zone."""

    first: date
    end: date
    zone: tzinfo

    @property
    def label(self) -> str:
        """'YYYY-MM'."""
        return f"{self.first.year:04d}-{self.first.month:02d}"

    @property
    def start_time(self) -> datetime:
        """Local midnight of the first day."""
        return datetime(self.first.year, self.first.month, 1, tzinfo=self.zone)

    @property
    def end_time(self) -> datetime:
        """Local midnight of the next month's first day."""
        return datetime(self.end.year, self.end.month, 1, tzinfo=self.zone)


def parse_month(text: str, zone: tzinfo) -> Month:
    """'YYYY-MM' as a Month; ReportError otherwise."""
    match = _MONTH.fullmatch(str(text).strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ReportError(f"month must be written YYYY-MM (such as 2022-03), got {text!r}")
    first = date(int(match.group(1)), int(match.group(2)), 1)
    end = (first + timedelta(days=32)).replace(day=1)
    return Month(first, end, zone)


async def async_fetch_series(source: StatisticsSource, entity_ids: Sequence[str],
                             start: datetime, end: datetime) -> dict[str, MeterSeries]:
    """The cumulative points of each meter from `start` to `end` (hourly rows from the hour
    before, so the first hour has its starting point)."""
    ids = list(dict.fromkeys(entity_ids))
    hourly = await source.async_get_statistics(ids, "hour", start - timedelta(hours=1), end,
                                               _TYPES, epoch_ms=True)
    short = await source.async_get_statistics(ids, "5minute", start, end, _TYPES,
                                              epoch_ms=True)
    return {entity_id: series_from_statistics(hourly.get(entity_id, ()),
                                              short.get(entity_id, ()))
            for entity_id in ids}


@dataclass(frozen=True, slots=True)
class NodeMonth:
    """A node's month: per-period totals under its tariff, whether any was split, and whether
    every meter below it has data for the whole month."""

    node: MeterNode
    tariff: Tariff | None
    totals: PeriodTotals
    approximate: bool
    complete: bool


class NodeConsumption:
    """Consumption per tariff segment of tree nodes, a virtual node from its parts, each
    computed once per node and tariff (blocking: numpy work). `segments_for(tariff)` gives
    the segments a tariff cuts the span into. Calling it returns the amounts per segment and
    whether any was split in proportion to time (approximate)."""

    def __init__(self, config: EnergyConfig, series: Mapping[str, MeterSeries],
                 segments_for: Callable[[Tariff | None], Segments]) -> None:
        self._config = config
        self._series = series
        self._segments_for = segments_for
        self._cache: dict[tuple[str, str | None], tuple[np.ndarray, bool]] = {}

    def __call__(self, node_id: str, tariff: Tariff | None) -> tuple[np.ndarray, bool]:
        key = (node_id, tariff.name if tariff else None)
        if key not in self._cache:
            node = self._config.nodes[node_id]
            if node.virtual is None:
                segments = self._segments_for(tariff)
                meter = self._series.get(node.entity_id or "")
                self._cache[key] = (consumption_by_segment(meter, segments) if meter is not None
                                    else (np.zeros(len(segments.starts)), False))
            else:
                parts = {name: self(name, tariff) for name in node.virtual.names}
                self._cache[key] = (
                    node.virtual.evaluate({name: part[0] for name, part in parts.items()}),
                    any(part[1] for part in parts.values()))
        return self._cache[key]


def compute_nodes(config: EnergyConfig, node_ids: Sequence[str], month: Month,
                  series: Mapping[str, MeterSeries]) -> dict[str, NodeMonth]:
    """Totals of the nodes named for `month` (blocking: numpy work for many meters).

    A node without a tariff gets its consumption under 'flat' at no price.
    """
    segments_of: dict[str | None, Segments] = {}

    def segments_for(tariff: Tariff | None) -> Segments:
        key = tariff.name if tariff else None
        if key not in segments_of:
            segments_of[key] = (tariff.segments(month.first, month.end, month.zone) if tariff
                                else _untariffed_segments(month))
        return segments_of[key]

    values = NodeConsumption(config, series, segments_for)
    start, end = month.start_time.timestamp(), month.end_time.timestamp()

    def covered(meter_id: str) -> bool:
        meter = series.get(config.nodes[meter_id].entity_id or "")
        return (meter is not None and len(meter.times) > 0
                and meter.times[0] <= start and meter.times[-1] >= end)

    result = {}
    for node_id in node_ids:
        node = config.nodes[node_id]
        tariff = config.tariffs.get(node.tariff) if node.tariff else None
        per_segment, approximate = values(node_id, tariff)
        result[node_id] = NodeMonth(node, tariff,
                                    totals_by_period(per_segment, segments_for(tariff)),
                                    approximate,
                                    all(covered(meter) for meter in meters_below(node_id,
                                                                                 config.nodes)))
    return result


def _untariffed_segments(month: Month) -> Segments:
    start, end = month.start_time.timestamp(), month.end_time.timestamp()
    return Segments(np.array([start]), np.array([end]),
                    np.array([PERIODS.index(Period.FLAT)]), np.array([0.0]))


async def async_month(executor: Executor, source: StatisticsSource, config: EnergyConfig,
                      node_ids: Sequence[str], month: Month) -> dict[str, NodeMonth]:
    """Read the statistics the nodes need and compute their month."""
    entity_ids = [config.nodes[meter].entity_id for node_id in node_ids
                  for meter in meters_below(node_id, config.nodes)]
    series = await async_fetch_series(source, [entity_id for entity_id in entity_ids
                                               if entity_id is not None],
                                      month.start_time, month.end_time)
    return await executor.async_add_executor_job(compute_nodes, config, node_ids, month, series)


def find_node(config: EnergyConfig, entity_id: str | None, node_id: str | None) -> MeterNode:
    """The node a report is for, by meter entity or node id; ReportError if none."""
    if node_id is not None:
        if node_id not in config.nodes:
            raise ReportError(f"no node '{node_id}' in the energy meter tree (nodes: "
                              f"{', '.join(config.nodes) or 'none'})")
        return config.nodes[node_id]
    node = config.node_of_entity(entity_id or "")
    if node is None:
        raise ReportError(f"{entity_id} is not a meter of the energy meter tree: add it under "
                          "energy: meters: (with its tariff) to report on it")
    return node


def tou_report(result: NodeMonth, month: Month, coefficients: Mapping[str, float],
               currency: str) -> dict[str, Any]:
    """The TOU report of one node as the API and the CLI give it."""
    node, totals = result.node, result.totals
    if result.tariff is None:
        raise ReportError(f"node '{node.node_id}' has no tariff: set 'tariff:' under energy: "
                          "or on the node")
    total = totals.total
    periods = {}
    for index, period in enumerate(PERIODS):
        amount = float(totals.amounts[index])
        periods[period.value] = {
            "kwh": tidy(amount),
            "share_pct": round(amount / total * 100, 2) if total else 0.0,
            "target_pct": node.targets.get(period),
            "cost": round(float(totals.costs[index]), 2),
        }
    kgce = total * kgce_per_unit(node.energy_type, coefficients)
    return {
        "entity_id": node.entity_id,
        "node": node.node_id,
        "name": node.name,
        "month": month.label,
        "tariff": result.tariff.name,
        "unit": ENERGY_UNITS[node.energy_type],
        "total_kwh": tidy(total),
        "total_cost": round(float(totals.costs.sum()), 2),
        "currency": currency,
        "total_tce": round(kgce / 1000, 6),
        "approximate": result.approximate,
        "complete": result.complete,
        "periods": periods,
    }


def cost_report(results: Mapping[str, NodeMonth], month: Month,
                coefficients: Mapping[str, float], currency: str) -> dict[str, Any]:
    """Consumption, cost and standard coal per node, and cost per cost centre."""
    nodes: dict[str, Any] = {}
    centres: dict[str, dict[str, float]] = {}
    total_kgce = 0.0
    for node_id, result in results.items():
        node, totals = result.node, result.totals
        amount, cost = totals.total, float(totals.costs.sum())
        kgce = amount * kgce_per_unit(node.energy_type, coefficients)
        nodes[node_id] = {
            "name": node.name,
            "type": node.energy_type.value,
            "unit": ENERGY_UNITS[node.energy_type],
            "amount": tidy(amount),
            "cost": round(cost, 2) if result.tariff else None,
            "tce": round(kgce / 1000, 6),
            "approximate": result.approximate,
            "complete": result.complete,
            "periods": ({period.value: {"amount": tidy(totals.amounts[index]),
                                        "cost": round(float(totals.costs[index]), 2)}
                         for index, period in enumerate(PERIODS) if totals.amounts[index]}
                        if result.tariff else {}),
        }
        if node.parent is None:
            total_kgce += kgce
        for centre, share in node.cost_centres.items():
            entry = centres.setdefault(centre, {"cost": 0.0, "tce": 0.0})
            entry["cost"] = round(entry["cost"] + cost * share, 2)
            entry["tce"] = round(entry["tce"] + kgce * share / 1000, 6)
    return {"month": month.label, "currency": currency, "nodes": nodes,
            "cost_centres": centres, "total_tce": round(total_kgce / 1000, 6)}
