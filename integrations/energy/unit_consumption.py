"""Unit consumption (单耗): energy per unit of output by shift, team, day and month, quotas,
team ranking, drift alarms, and total (综合) energy consumption in tce.

    energy:
      shifts: {...}                     # production day and shifts, see shifts.py
      unit_consumption:
        - id: mill_power
          name: 立磨电单耗
          energy: mill                  # node id(s) of the meter tree
          output: sensor.mill_output    # a total_increasing output (production integration)
          quota: 23.5                   # 定额, in the indicator's unit (here kWh/t)
          basis: native                 # or kgce: energy converted with the coefficients
          price: 0.5                    # optional, per energy unit: cost of the excess
          drift:
            threshold_pct: 5            # above the reference by more than 5 %
            days: 3                     # on 3 production days in a row (days without output
            against: quota              # are skipped); or baseline: the mean of the last
            baseline_days: 14           # baseline_days normal days before
            severity: warning

Energy and output come from the recorder's statistics (5-minute rows where kept, hourly
otherwise), cut at the shift edges; an hourly row that a shift edge splits is divided in
proportion to time and the result says `"approximate": true`. Several energy nodes of
different types are added in kgce (GB/T 2589, standards.py). Unit consumption is None where
there was no output.

Services (answering with data): `energy.unit_consumption`, `energy.team_ranking`,
`energy.unit_consumption_drift`, `energy.total_consumption`. Sensors
`sensor.<id>_unit_consumption_today` give each indicator over today's production day so far
(refreshed every 5 minutes, with the shift and team on now). The drift check also runs after
each production day ends and raises (or clears) the alarm `unit_consumption_drift_<id>`
when the alarm integration is set up.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import PlantPulseError, ServiceValidationError
from plantpulse.core.platforms.sensor import SensorEntity, StateClass
from plantpulse.core.recorder import get_recorder
from plantpulse.core.services import ServiceCall, ServiceField, SupportsResponse
from plantpulse.integrations.energy.const import DOMAIN, ENERGY_UNITS, EnergyType
from plantpulse.integrations.energy.cost import (
    MeterSeries,
    consumption_by_segment,
    series_from_statistics,
    tidy,
)
from plantpulse.integrations.energy.shifts import Slot
from plantpulse.integrations.energy.standards import kgce_per_unit
from plantpulse.integrations.energy.tariff import Segments, a_date
from plantpulse.integrations.energy.tree import MeterNode, meters_below

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.integrations.energy.config import EnergyConfig
    from plantpulse.integrations.energy.report import StatisticsSource

_LOGGER = logging.getLogger(__name__)

CONF_ID: Final = "id"
CONF_NAME: Final = "name"
CONF_ENERGY: Final = "energy"
CONF_OUTPUT: Final = "output"
CONF_OUTPUT_UNIT: Final = "output_unit"
CONF_QUOTA: Final = "quota"
CONF_BASIS: Final = "basis"
CONF_PRICE: Final = "price"
CONF_PRODUCT: Final = "product"
CONF_DRIFT: Final = "drift"
CONF_THRESHOLD_PCT: Final = "threshold_pct"
CONF_DAYS: Final = "days"
CONF_AGAINST: Final = "against"
CONF_BASELINE_DAYS: Final = "baseline_days"
CONF_SEVERITY: Final = "severity"
BASIS_NATIVE: Final = "native"
BASIS_KGCE: Final = "kgce"
AGAINST_QUOTA: Final = "quota"
AGAINST_BASELINE: Final = "baseline"
GROUPS: Final = ("slot", "shift", "team", "day", "month", "none")
DRIFT_LOOKBACK_DAYS: Final = 92
CHECK_DELAY: Final = timedelta(minutes=15)
MIN_BASELINE_DAYS: Final = 3
ALARM_PREFIX: Final = "unit_consumption_drift_"


class UnitConsumptionError(PlantPulseError):
    """A unit consumption question cannot be answered as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class DriftRule:
    """When an indicator drifts: above its reference by `threshold_pct` % on `days` days."""

    threshold_pct: float
    days: int
    against: str
    baseline_days: int
    severity: str


@dataclass(frozen=True, slots=True)
class Indicator:
    """Energy of some nodes per unit of one output."""

    indicator_id: str
    name: str
    energy: tuple[str, ...]
    output: str
    output_unit: str | None = None
    quota: float | None = None
    basis: str = BASIS_NATIVE
    price: float | None = None
    product: str | None = None
    drift: DriftRule | None = None


_DRIFT: Final = vol.Schema({
    vol.Optional(CONF_THRESHOLD_PCT, default=5.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional(CONF_DAYS, default=3): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional(CONF_AGAINST, default=AGAINST_QUOTA): vol.In((AGAINST_QUOTA, AGAINST_BASELINE)),
    vol.Optional(CONF_BASELINE_DAYS, default=14): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional(CONF_SEVERITY, default="warning"): vol.In(("critical", "major", "minor",
                                                            "warning")),
})
_INDICATOR: Final = vol.Schema({
    vol.Required(CONF_ID): cv.slug,
    vol.Optional(CONF_NAME): cv.string,
    vol.Required(CONF_ENERGY): vol.All(cv.ensure_list, [cv.slug], vol.Length(min=1)),
    vol.Required(CONF_OUTPUT): cv.entity_id,
    vol.Optional(CONF_OUTPUT_UNIT): cv.string,
    vol.Optional(CONF_QUOTA): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional(CONF_BASIS, default=BASIS_NATIVE): vol.In((BASIS_NATIVE, BASIS_KGCE)),
    vol.Optional(CONF_PRICE): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional(CONF_PRODUCT): cv.string,
    vol.Optional(CONF_DRIFT): _DRIFT,
})


def indicators_schema(value: Any) -> list[Indicator]:
    """The `unit_consumption:` list (node ids are checked by check_indicators)."""
    result: list[Indicator] = []
    for index, raw in enumerate(cv.ensure_list(value) if value is not None else []):
        try:
            block = _INDICATOR(raw)
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index, *err.path]) from None
        if block[CONF_ID] in {item.indicator_id for item in result}:
            raise vol.Invalid(f"indicator id '{block[CONF_ID]}' is used twice",
                              path=[index, CONF_ID])
        drift = block.get(CONF_DRIFT)
        rule = None
        if drift is not None:
            rule = DriftRule(drift[CONF_THRESHOLD_PCT], drift[CONF_DAYS], drift[CONF_AGAINST],
                             drift[CONF_BASELINE_DAYS], drift[CONF_SEVERITY])
            if rule.against == AGAINST_QUOTA and CONF_QUOTA not in block:
                raise vol.Invalid("drift against the quota needs 'quota' (or use against: "
                                  "baseline)", path=[index, CONF_DRIFT])
        result.append(Indicator(
            block[CONF_ID], block.get(CONF_NAME, block[CONF_ID]), tuple(block[CONF_ENERGY]),
            block[CONF_OUTPUT], block.get(CONF_OUTPUT_UNIT), block.get(CONF_QUOTA),
            block[CONF_BASIS], block.get(CONF_PRICE), block.get(CONF_PRODUCT), rule))
    return result


def check_indicators(indicators: Sequence[Indicator],
                     nodes: Mapping[str, MeterNode]) -> dict[str, Indicator]:
    """Indicators by id, each naming nodes of the tree; vol.Invalid with the path if not."""
    for index, indicator in enumerate(indicators):
        unknown = [name for name in indicator.energy if name not in nodes]
        if unknown:
            raise vol.Invalid(f"unit consumption '{indicator.indicator_id}' names unknown "
                              f"node(s) {', '.join(unknown)} (nodes: "
                              f"{', '.join(nodes) or 'none'})", path=[index, CONF_ENERGY])
    return {indicator.indicator_id: indicator for indicator in indicators}


def unit_consumption_option(value: Any,
                            nodes: Mapping[str, MeterNode]) -> dict[str, Indicator]:
    """The `unit_consumption:` key of the energy block, checked against the meter tree."""
    return check_indicators(indicators_schema(value), nodes)


# Reading energy and output per slot ------------------------------------------------------

@dataclass(slots=True)
class SlotFigures:
    """Energy (in `energy_unit`), native amounts per type, and output, per slot."""

    slots: list[Slot]
    energy: np.ndarray
    output: np.ndarray
    by_type: dict[EnergyType, np.ndarray]
    energy_unit: str
    approximate: bool = False
    kgce: np.ndarray = field(default_factory=lambda: np.zeros(0))


def _segments(slots: Sequence[Slot]) -> Segments:
    count = len(slots)
    return Segments(np.array([slot.start.timestamp() for slot in slots]),
                    np.array([slot.end.timestamp() for slot in slots]),
                    np.zeros(count, dtype=int), np.zeros(count))


async def async_fetch_series(source: StatisticsSource, entity_ids: Sequence[str],
                             start: datetime, end: datetime) -> dict[str, MeterSeries]:
    """The cumulative points of each meter from `start` to `end`: hourly rows from the hour
    before and 5-minute rows from the 5 minutes before, so an edge at any 5-minute boundary
    has its point (report.async_fetch_series starts the 5-minute rows at `start`)."""
    ids = list(dict.fromkeys(entity_ids))
    types = {"sum", "change"}
    hourly = await source.async_get_statistics(ids, "hour", start - timedelta(hours=1), end,
                                               types, epoch_ms=True)
    short = await source.async_get_statistics(ids, "5minute", start - timedelta(minutes=5),
                                              end, types, epoch_ms=True)
    return {entity_id: series_from_statistics(hourly.get(entity_id, ()),
                                              short.get(entity_id, ()))
            for entity_id in ids}


def energy_unit(config: EnergyConfig, node_ids: Sequence[str], basis: str) -> str:
    """The unit the nodes add up in: their own if one type and basis native, else kgce."""
    types = {config.nodes[node_id].energy_type for node_id in node_ids}
    if basis == BASIS_NATIVE and len(types) == 1:
        return ENERGY_UNITS[next(iter(types))]
    return "kgce"


async def async_slot_figures(hub: Hub, source: StatisticsSource, config: EnergyConfig,
                             node_ids: Sequence[str], output: str | None,
                             slots: Sequence[Slot], basis: str = BASIS_NATIVE) -> SlotFigures:
    """Energy of `node_ids` and the `output` counted in each slot, from statistics."""
    if not slots:
        raise UnitConsumptionError("no production days in the period asked")
    meters = [config.nodes[meter].entity_id for node_id in node_ids
              for meter in meters_below(node_id, config.nodes)]
    ids = [entity_id for entity_id in meters if entity_id is not None]
    if output is not None:
        ids.append(output)
    series = await async_fetch_series(source, ids, slots[0].start, slots[-1].end)
    segments = _segments(slots)
    unit = energy_unit(config, node_ids, basis)

    def work() -> SlotFigures:
        approximate = False
        cache: dict[str, np.ndarray] = {}

        def values(node_id: str) -> np.ndarray:
            nonlocal approximate
            if node_id not in cache:
                node = config.nodes[node_id]
                if node.virtual is None:
                    assert node.entity_id is not None
                    amounts, split = consumption_by_segment(series[node.entity_id], segments)
                    approximate = approximate or split
                    cache[node_id] = amounts
                else:
                    cache[node_id] = node.virtual.evaluate(
                        {name: values(name) for name in node.virtual.names})
            return cache[node_id]

        count = len(slots)
        energy, kgce = np.zeros(count), np.zeros(count)
        by_type: dict[EnergyType, np.ndarray] = {}
        for node_id in node_ids:
            node = config.nodes[node_id]
            amounts = values(node_id)
            converted = amounts * kgce_per_unit(node.energy_type, config.coefficients)
            kgce += converted
            energy += converted if unit == "kgce" else amounts
            by_type[node.energy_type] = by_type.get(node.energy_type, np.zeros(count)) + amounts
        produced = np.zeros(count)
        if output is not None:
            produced, split = consumption_by_segment(series[output], segments)
            approximate = approximate or split
        return SlotFigures(list(slots), energy, produced, by_type, unit, approximate, kgce)

    return await hub.async_add_executor_job(work)


# Grouping ----------------------------------------------------------------------------------

def group_key(slot: Slot, group_by: str) -> str:
    """The group a slot counts in."""
    if group_by == "slot":
        return f"{slot.day.isoformat()} {slot.shift.name}"
    if group_by == "shift":
        return slot.shift.name
    if group_by == "team":
        return slot.team or "-"
    if group_by == "day":
        return slot.day.isoformat()
    if group_by == "month":
        return f"{slot.day.year:04d}-{slot.day.month:02d}"
    return "all"


def _ratio(energy: float, output: float) -> float | None:
    return round(energy / output, 6) if output > 0 else None


def figures(energy: float, output: float, quota: float | None) -> dict[str, Any]:
    """Energy, output, unit consumption and its variance against `quota`."""
    value = _ratio(energy, output)
    variance = variance_pct = None
    if value is not None and quota is not None:
        variance = round(value - quota, 6)
        variance_pct = round((value - quota) / quota * 100, 2) if quota else None
    return {"energy": tidy(energy, 6), "output": tidy(output, 6), "unit_consumption": value,
            "variance": variance, "variance_pct": variance_pct}


def grouped(data: SlotFigures, group_by: str,
            quota: float | None) -> list[dict[str, Any]]:
    """One entry per group, in order of first appearance."""
    sums: dict[str, list[Any]] = {}
    for index, slot in enumerate(data.slots):
        entry = sums.setdefault(group_key(slot, group_by), [0.0, 0.0, 0])
        entry[0] += float(data.energy[index])
        entry[1] += float(data.output[index])
        entry[2] += 1
    return [{"key": key, **figures(energy, output, quota), "shifts": count}
            for key, (energy, output, count) in sums.items()]


# Drift ------------------------------------------------------------------------------------

@dataclass(slots=True)
class DriftRun:
    """Production days in a row above the reference."""

    start: date
    end: date
    days: int = 0
    energy: float = 0.0
    output: float = 0.0
    excess: float = 0.0
    references: list[float] = field(default_factory=list)

    def as_dict(self, price: float | None) -> dict[str, Any]:
        """The run as the service gives it."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "days": self.days, "unit_consumption": _ratio(self.energy, self.output),
                "reference": round(float(np.mean(self.references)), 6),
                "excess": tidy(self.excess, 6),
                "excess_cost": round(self.excess * price, 2) if price is not None else None}


def find_drift(days: Sequence[date], energy: Sequence[float], output: Sequence[float],
               rule: DriftRule, quota: float | None) -> tuple[list[DriftRun], DriftRun | None]:
    """Runs of at least `rule.days` production days above the reference, and the run still
    open on the last day (None if the last judged day was normal or the run is shorter).

    The reference is the quota, or the mean of the last `baseline_days` normal days (at least
    three) before the day judged. Days without output neither break nor extend a run.
    """
    runs: list[DriftRun] = []
    normal: list[float] = []
    current: DriftRun | None = None
    for day, used, made in zip(days, energy, output, strict=True):
        if made <= 0:
            continue
        value = used / made
        if rule.against == AGAINST_QUOTA:
            reference = quota
        else:
            recent = normal[-rule.baseline_days:]
            reference = (float(np.mean(recent)) if len(recent) >= min(MIN_BASELINE_DAYS,
                                                                      rule.baseline_days)
                         else None)
        if reference is None:
            normal.append(value)
            continue
        if value > reference * (1 + rule.threshold_pct / 100):
            if current is None:
                current = DriftRun(day, day)
            current.end = day
            current.days += 1
            current.energy += used
            current.output += made
            current.excess += used - reference * made
            current.references.append(reference)
            continue
        if current is not None and current.days >= rule.days:
            runs.append(current)
        current = None
        normal.append(value)
    if current is not None and current.days >= rule.days:
        runs.append(current)
        return runs, current
    return runs, None


# Periods ----------------------------------------------------------------------------------

_MONTH: Final = re.compile(r"(\d{4})-(\d{2})")


def period_days(data: Mapping[str, Any], today: date) -> tuple[date, date]:
    """The production days a call asks for: `date`, `from`/`to` or `month` (default today)."""
    try:
        if "month" in data:
            match = _MONTH.fullmatch(str(data["month"]).strip())
            if not match or not 1 <= int(match.group(2)) <= 12:
                raise vol.Invalid("month must be written YYYY-MM")
            first = date(int(match.group(1)), int(match.group(2)), 1)
            return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        if "date" in data:
            day = a_date(data["date"])
            return day, day
        first = a_date(data["from"]) if "from" in data else today
        last = a_date(data["to"]) if "to" in data else max(first, today)
    except vol.Invalid as err:
        raise UnitConsumptionError(str(err.msg)) from None
    if last < first:
        raise UnitConsumptionError(f"'to' ({last}) is before 'from' ({first})")
    return first, last


def total_nodes(config: EnergyConfig, node_id: str) -> list[str]:
    """The nodes whose energy makes up a node's total: itself, and below it the topmost
    node of each other energy type (a water meter under a workshop's electricity meter)."""
    found = [node_id]
    pending = [(child, {config.nodes[node_id].energy_type})
               for child in config.nodes[node_id].children]
    while pending:
        child_id, seen = pending.pop(0)
        child = config.nodes[child_id]
        if child.energy_type not in seen:
            found.append(child_id)
            seen = {*seen, child.energy_type}
        pending.extend((grandchild, seen) for grandchild in child.children)
    return found


# The hub side: services and the daily check ------------------------------------------------

_PERIOD_FIELDS: Final = {
    vol.Exclusive("date", "period"): cv.string,
    vol.Exclusive("month", "period"): cv.string,
    vol.Optional("from"): cv.string,
    vol.Optional("to"): cv.string,
}
UNIT_SCHEMA: Final = vol.Schema({
    vol.Exclusive("indicator", "subject"): cv.slug,
    vol.Exclusive("node", "subject"): vol.All(cv.ensure_list, [cv.slug], vol.Length(min=1)),
    vol.Optional("output"): cv.entity_id,
    vol.Optional("quota"): vol.Coerce(float),
    vol.Optional("basis"): vol.In((BASIS_NATIVE, BASIS_KGCE)),
    vol.Optional("group_by", default="day"): vol.In(GROUPS),
    **_PERIOD_FIELDS,
})
RANKING_SCHEMA: Final = vol.Schema({vol.Required("indicator"): cv.slug, **_PERIOD_FIELDS})
DRIFT_SCHEMA: Final = vol.Schema({
    vol.Required("indicator"): cv.slug,
    vol.Optional("date"): cv.string,
    vol.Optional("days", default=DRIFT_LOOKBACK_DAYS): vol.All(vol.Coerce(int),
                                                               vol.Range(min=1, max=3660)),
})
TOTAL_SCHEMA: Final = vol.Schema({
    vol.Required("node"): vol.All(cv.ensure_list, [cv.slug], vol.Length(min=1)),
    vol.Optional("group_by", default="none"): vol.In(("day", "month", "none")),
    **_PERIOD_FIELDS,
})


class UnitConsumption:
    """Answers the unit consumption services and runs the daily drift check."""

    def __init__(self, hub: Hub, config: EnergyConfig) -> None:
        self.hub = hub
        self.config = config
        self.calendar = config.shifts
        self.zone: tzinfo = hub.site.tz

    # helpers
    def today(self) -> date:
        """The production day now is in."""
        return self.calendar.production_day(self.hub.clock.now(), self.zone)

    def _source(self) -> StatisticsSource:
        recorder = get_recorder(self.hub)
        if recorder is None:
            raise UnitConsumptionError("unit consumption reads the recorder's statistics: add "
                                       "'recorder:' to the configuration")
        return recorder

    def indicator(self, indicator_id: str) -> Indicator:
        """The configured indicator; an error naming the others if none."""
        if indicator_id not in self.config.unit_consumption:
            raise UnitConsumptionError(
                f"no unit consumption '{indicator_id}' under energy: unit_consumption: "
                f"(configured: {', '.join(self.config.unit_consumption) or 'none'})")
        return self.config.unit_consumption[indicator_id]

    def _adhoc(self, data: Mapping[str, Any]) -> Indicator:
        if "indicator" in data:
            indicator = self.indicator(data["indicator"])
            if "basis" in data:
                indicator = replace(indicator, basis=data["basis"])
            return indicator
        if "node" not in data or "output" not in data:
            raise UnitConsumptionError("give 'indicator', or 'node' and 'output'")
        unknown = [node for node in data["node"] if node not in self.config.nodes]
        if unknown:
            raise UnitConsumptionError(f"no node {', '.join(unknown)} in the energy meter tree")
        return Indicator("adhoc", data["output"], tuple(data["node"]), data["output"],
                         quota=data.get("quota"), basis=data.get("basis", BASIS_NATIVE))

    def output_unit(self, indicator: Indicator) -> str:
        """The output's unit: configured, else the entity's, else t."""
        if indicator.output_unit:
            return indicator.output_unit
        state = self.hub.states.get(indicator.output)
        unit = state.attributes.get("unit_of_measurement") if state is not None else None
        return str(unit) if unit else "t"

    async def async_figures(self, indicator: Indicator, first: date,
                            last: date) -> SlotFigures:
        """The indicator's energy and output per slot of production days first..last."""
        slots = self.calendar.slots(first, last, self.zone)
        return await async_slot_figures(self.hub, self._source(), self.config,
                                        indicator.energy, indicator.output, slots,
                                        indicator.basis)

    def _header(self, indicator: Indicator, data: SlotFigures, first: date,
                last: date) -> dict[str, Any]:
        output_unit = self.output_unit(indicator)
        return {"indicator": indicator.indicator_id, "name": indicator.name,
                "product": indicator.product, "energy_nodes": list(indicator.energy),
                "output": indicator.output, "from": first.isoformat(), "to": last.isoformat(),
                "energy_unit": data.energy_unit, "output_unit": output_unit,
                "unit": f"{data.energy_unit}/{output_unit}", "quota": indicator.quota,
                "approximate": data.approximate}

    # services
    async def async_unit_consumption(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """energy.unit_consumption."""
        indicator = self._adhoc(data)
        first, last = period_days(data, self.today())
        figures_ = await self.async_figures(indicator, first, last)
        total = figures(float(figures_.energy.sum()), float(figures_.output.sum()),
                        indicator.quota)
        return {**self._header(indicator, figures_, first, last),
                "group_by": data.get("group_by", "day"),
                "total": {**total, "tce": round(float(figures_.kgce.sum()) / 1000, 6)},
                "groups": grouped(figures_, data.get("group_by", "day"), indicator.quota)}

    async def async_team_ranking(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """energy.team_ranking: teams by unit consumption, lowest first."""
        indicator = self.indicator(data["indicator"])
        if self.calendar.rotation is None:
            raise UnitConsumptionError("team ranking needs teams: add 'rotation:' under "
                                       "energy: shifts:")
        first, last = period_days(data, self.today())
        figures_ = await self.async_figures(indicator, first, last)
        teams = {entry["key"]: entry for entry in grouped(figures_, "team", indicator.quota)}
        entries = [teams.get(team, {"key": team, **figures(0.0, 0.0, indicator.quota),
                                    "shifts": 0})
                   for team in self.calendar.teams]
        entries.sort(key=lambda entry: (entry["unit_consumption"] is None,
                                        entry["unit_consumption"] or 0.0))
        ranking = [{"rank": index + 1 if entry["unit_consumption"] is not None else None,
                    "team": entry.pop("key"), **entry} for index, entry in enumerate(entries)]
        return {**self._header(indicator, figures_, first, last), "ranking": ranking}

    async def async_drift(self, indicator: Indicator, last: date,
                          lookback: int = DRIFT_LOOKBACK_DAYS) -> dict[str, Any]:
        """The drift check of `indicator` over the `lookback` production days to `last`."""
        rule = indicator.drift or DriftRule(5.0, 3, AGAINST_QUOTA if indicator.quota is not None
                                            else AGAINST_BASELINE, 14, "warning")
        if rule.against == AGAINST_QUOTA and indicator.quota is None:
            raise UnitConsumptionError(f"'{indicator.indicator_id}' has no quota to check "
                                       "against")
        first = last - timedelta(days=lookback - 1)
        data = await self.async_figures(indicator, first, last)
        days = [first + timedelta(days=offset) for offset in range(lookback)]
        per_day = len(self.calendar.shifts)
        energy = data.energy.reshape(lookback, per_day).sum(axis=1)
        output = data.output.reshape(lookback, per_day).sum(axis=1)
        runs, active = find_drift(days, energy.tolist(), output.tolist(), rule, indicator.quota)
        made = output[-1]
        return {**self._header(indicator, data, first, last),
                "threshold_pct": rule.threshold_pct, "days_required": rule.days,
                "against": rule.against,
                "drifting": active is not None,
                "started": active.start.isoformat() if active else None,
                "days": active.days if active else 0,
                "last_day": figures(float(energy[-1]), float(made), indicator.quota),
                "runs": [run.as_dict(indicator.price) for run in runs],
                "currency": self.hub.site.currency}

    async def async_total(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """energy.total_consumption: every energy type of the nodes in tce."""
        unknown = [node for node in data["node"] if node not in self.config.nodes]
        if unknown:
            raise UnitConsumptionError(f"no node {', '.join(unknown)} in the energy meter tree")
        node_ids = list(dict.fromkeys(member for node in data["node"]
                                      for member in total_nodes(self.config, node)))
        first, last = period_days(data, self.today())
        slots = self.calendar.slots(first, last, self.zone)
        group_by = data.get("group_by", "none")
        result = await async_slot_figures(self.hub, self._source(), self.config, node_ids,
                                          None, slots, BASIS_KGCE)
        keys = [group_key(slot, group_by) for slot in slots]
        groups: dict[str, dict[str, Any]] = {}
        for index, key in enumerate(keys):
            entry = groups.setdefault(key, {"key": key, "kgce": 0.0, "by_type": {}})
            entry["kgce"] += float(result.kgce[index])
            for energy_type, amounts in result.by_type.items():
                entry["by_type"][energy_type.value] = (entry["by_type"].get(energy_type.value,
                                                                            0.0)
                                                       + float(amounts[index]))
        for entry in groups.values():
            entry["tce"] = round(entry.pop("kgce") / 1000, 6)
            entry["by_type"] = self._by_type(entry["by_type"])
        totals = {energy_type.value: float(amounts.sum())
                  for energy_type, amounts in result.by_type.items()}
        return {"nodes": node_ids, "from": first.isoformat(), "to": last.isoformat(),
                "tce": round(float(result.kgce.sum()) / 1000, 6),
                "by_type": self._by_type(totals), "approximate": result.approximate,
                "groups": list(groups.values()) if group_by != "none" else []}

    def _by_type(self, amounts: Mapping[str, float]) -> dict[str, Any]:
        result = {}
        for name, amount in amounts.items():
            energy_type = EnergyType(name)
            coefficient = kgce_per_unit(energy_type, self.config.coefficients)
            result[name] = {"amount": tidy(amount, 6), "unit": ENERGY_UNITS[energy_type],
                            "kgce_per_unit": coefficient,
                            "tce": round(amount * coefficient / 1000, 6)}
        return result

    # the daily check
    def async_start(self) -> None:
        """Check drift after each production day ends (plus a delay for statistics)."""
        if any(indicator.drift for indicator in self.config.unit_consumption.values()):
            self._schedule()

    def _schedule(self) -> None:
        due = self.calendar.day_begins(self.today() + timedelta(days=1), self.zone) + CHECK_DELAY
        self.hub.async_call_at(due, self._async_tick, name="unit consumption drift check")

    async def _async_tick(self) -> None:
        try:
            await self.async_check_all()
        finally:  # after the check, so checks never overlap (a late one checks up to now)
            self._schedule()

    async def async_check_all(self) -> list[dict[str, Any]]:
        """Check every indicator with a drift rule up to the last whole production day,
        raising or clearing its alarm."""
        done = self.calendar.production_day(self.hub.clock.now() - CHECK_DELAY, self.zone)
        results = []
        for indicator in self.config.unit_consumption.values():
            if indicator.drift is None:
                continue
            try:
                result = await self.async_drift(indicator, done - timedelta(days=1))
            except PlantPulseError as err:
                _LOGGER.warning("Unit consumption drift check of %s failed: %s",
                                indicator.indicator_id, err)
                continue
            results.append(result)
            await self._async_alarm(indicator, result)
        return results

    async def _async_alarm(self, indicator: Indicator, result: dict[str, Any]) -> None:
        alarms = self.hub.data.get("alarm")
        if alarms is None:
            return
        key = f"{ALARM_PREFIX}{indicator.indicator_id}"
        if not result["drifting"]:
            await alarms.async_clear(key)
            return
        assert indicator.drift is not None
        run = result["runs"][-1]
        unit = result["unit"]
        message = {
            "zh-CN": (f"{indicator.name}自{run['start']}起连续{run['days']}天高于"
                      f"{'定额' if indicator.drift.against == AGAINST_QUOTA else '基准'}"
                      f"{run['reference']:g} {unit}超过{indicator.drift.threshold_pct:g}%"
                      f"（期间 {run['unit_consumption']:g} {unit}）"),
            "en": (f"{indicator.name}: {run['days']} days in a row more than "
                   f"{indicator.drift.threshold_pct:g} % above the {indicator.drift.against} "
                   f"{run['reference']:g} {unit}, since {run['start']} "
                   f"({run['unit_consumption']:g} {unit} over the period)"),
        }
        await alarms.async_raise(key, indicator.drift.severity, message,
                                 source=indicator.output,
                                 data={"indicator": indicator.indicator_id,
                                       "started": run["start"], "days": run["days"],
                                       "unit_consumption": run["unit_consumption"],
                                       "reference": run["reference"],
                                       "excess": run["excess"]})


class TodaySensor(SensorEntity):
    """`sensor.<id>_unit_consumption_today`: the indicator over today's production day so
    far, with the shift and team on now; refreshed every SENSOR_INTERVAL on the hub clock."""

    _attr_state_class = StateClass.MEASUREMENT
    _attr_icon = "mdi:scale-balance"

    def __init__(self, unit: UnitConsumption, indicator: Indicator) -> None:
        self._unit = unit
        self._indicator = indicator
        self.entity_id = f"sensor.{indicator.indicator_id}_unit_consumption_today"
        self._attr_name = f"{indicator.name} 今日单耗"
        energy = energy_unit(unit.config, indicator.energy, indicator.basis)
        self._attr_native_unit_of_measurement = f"{energy}/{unit.output_unit(indicator)}"
        self._value: float | None = None
        self._attributes: dict[str, Any] = {}

    @property
    def native_value(self) -> float | None:
        return self._value

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        return self._attributes

    async def async_refresh(self) -> None:
        """Recompute from the statistics and write the state."""
        unit, indicator = self._unit, self._indicator
        now = unit.hub.clock.now()
        slot = unit.calendar.slot_at(now, unit.zone)
        try:
            data = await unit.async_figures(indicator, slot.day, slot.day)
        except PlantPulseError as err:
            _LOGGER.debug("No unit consumption for %s yet: %s", self.entity_id, err)
            return
        result = figures(float(data.energy.sum()), float(data.output.sum()), indicator.quota)
        self._value = result["unit_consumption"]
        self._attributes = {
            "production_day": slot.day.isoformat(), "shift": slot.shift.name,
            "team": slot.team, "energy": result["energy"], "output": result["output"],
            "quota": indicator.quota, "variance": result["variance"],
            "variance_pct": result["variance_pct"], "approximate": data.approximate}
        self.async_write_state()


SENSOR_INTERVAL: Final = timedelta(minutes=5)


async def _async_add_sensors(hub: Hub, unit: UnitConsumption) -> None:
    if get_recorder(hub) is None or not unit.config.unit_consumption:
        return
    sensors = [TodaySensor(unit, indicator)
               for indicator in unit.config.unit_consumption.values()]
    added = await hub.entities.async_add(DOMAIN, sensors)

    async def refresh() -> None:
        for sensor in added:
            assert isinstance(sensor, TodaySensor)
            await sensor.async_refresh()

    await refresh()
    hub.async_track_interval(refresh, SENSOR_INTERVAL, "unit consumption sensors")


def async_setup_unit_consumption(hub: Hub, config: EnergyConfig) -> UnitConsumption:
    """Register the unit consumption services and start the daily drift check."""
    unit = UnitConsumption(hub, config)

    def handler(method: Callable[[Mapping[str, Any]], Any]) -> Callable[[ServiceCall], Any]:
        async def handle(call: ServiceCall) -> dict[str, Any]:
            try:
                return await method(call.data)
            except ServiceValidationError:
                raise
            except PlantPulseError as err:
                raise ServiceValidationError(str(err)) from None
        return handle

    async def drift(data: Mapping[str, Any]) -> dict[str, Any]:
        indicator = unit.indicator(data["indicator"])
        last = (a_date(data["date"]) if "date" in data
                else unit.today() - timedelta(days=1))
        return await unit.async_drift(indicator, last, data.get("days", DRIFT_LOOKBACK_DAYS))

    period = ServiceField("A production day YYYY-MM-DD (or from/to, or month YYYY-MM)",
                          example="2026-03-02")
    hub.services.async_register(
        DOMAIN, "unit_consumption", handler(unit.async_unit_consumption), UNIT_SCHEMA,
        supports_response=SupportsResponse.ONLY, name="Unit consumption",
        description="Energy per unit of output (kWh/t, m³/t, kgce/t) of an indicator, or of "
        "nodes and an output, per slot, shift, team, day or month, with the quota variance.",
        fields={"indicator": ServiceField("An id under energy: unit_consumption:",
                                          example="mill_power"),
                "node": ServiceField("Or node id(s) of the meter tree", example="mill"),
                "output": ServiceField("With an output entity", example="sensor.mill_output"),
                "group_by": ServiceField("slot, shift, team, day, month or none",
                                         example="team"),
                "date": period})
    hub.services.async_register(
        DOMAIN, "team_ranking", handler(unit.async_team_ranking), RANKING_SCHEMA,
        supports_response=SupportsResponse.ONLY, name="Team ranking",
        description="Teams by unit consumption over a period, lowest first, with the figures.",
        fields={"indicator": ServiceField("An id under energy: unit_consumption:",
                                          example="mill_power", required=True),
                "month": ServiceField("A month YYYY-MM (or date, or from/to)",
                                      example="2026-03")})
    hub.services.async_register(
        DOMAIN, "unit_consumption_drift", handler(drift), DRIFT_SCHEMA,
        supports_response=SupportsResponse.ONLY, name="Unit consumption drift",
        description="Runs of production days above the quota or baseline, and the day the "
        "current drift started.",
        fields={"indicator": ServiceField("An id under energy: unit_consumption:",
                                          example="mill_power", required=True),
                "date": ServiceField("The last production day checked (default yesterday)",
                                     example="2026-03-31"),
                "days": ServiceField("How many days back to look", example=92)})
    hub.services.async_register(
        DOMAIN, "total_consumption", handler(unit.async_total), TOTAL_SCHEMA,
        supports_response=SupportsResponse.ONLY, name="Total energy consumption",
        description="Total (综合) energy consumption of nodes in tce: every energy type "
        "converted with the GB/T 2589 coefficients.",
        fields={"node": ServiceField("Node id(s) of the meter tree", example="workshop_1",
                                     required=True),
                "month": ServiceField("A month YYYY-MM (or date, or from/to)",
                                      example="2026-03")})
    unit.async_start()
    hub.async_create_task(_async_add_sensors(hub, unit))
    return unit
