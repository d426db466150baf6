"""The `balance:`, `allocation:` and `reports:` keys of the `energy:` block.

    energy:
      balance:                       # daily check of parent vs children, alarm above tolerance
        tolerance: 3                 # % loss allowed (the default), for every parent node
        nodes: {workshop_1: 2.5}     # per node
        check_at: "00:30"            # local time the closed day is checked (the default)
        severity: warning            # of the alarm energy_balance_<node> (the default)
      allocation:                    # shared meters split between cost centres
        - node: compressed_air
          by: measured               # in proportion to the centres' own meters' energy
          interval: hour             # per hour (the default), day or month
          centres: {一车间: [workshop_1], 二车间: [workshop_2]}
        - node: lighting
          by: ratio
          shares: {一车间: 0.7, 二车间: 0.3}     # or none: the node's cost_centre shares
      reports:                       # generated on the hub clock and mailed (notify targets)
        - name: monthly_energy
          node: site
          period: month              # day, month or year: the last closed one is reported
          format: xlsx               # xlsx (the default), csv or json
          at: "08:00"                # local time (the default)
          day: 1                     # day of the month (month, year); month: 1 for year
          notify: [ops_email]

Each is checked against the meter tree after it is built; errors name the item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.tariff import DAY_MINUTES, clock_time
from plantpulse.integrations.energy.tree import MeterNode

DEFAULT_TOLERANCE: Final = 3.0
DEFAULT_CHECK_AT: Final = 30
REPORT_PERIODS: Final = ("day", "month", "year")
REPORT_FORMATS: Final = ("xlsx", "csv", "json")
INTERVALS: Final = ("hour", "day", "month")
BY_RATIO: Final = "ratio"
BY_MEASURED: Final = "measured"


def time_of_day(value: Any) -> int:
    """'HH:MM' before midnight, as minutes after midnight."""
    minutes = clock_time(value)
    if minutes >= DAY_MINUTES:
        raise vol.Invalid("expected a time of day from 00:00 to 23:59")
    return minutes


_PERCENT: Final = vol.All(vol.Coerce(float), vol.Range(min=0, max=100))


@dataclass(frozen=True, slots=True)
class BalanceOptions:
    """Tolerances and the time of the daily balance check."""

    tolerance: float = DEFAULT_TOLERANCE
    nodes: Mapping[str, float] = field(default_factory=dict)
    check_at: int = DEFAULT_CHECK_AT
    severity: str = "warning"

    def tolerance_of(self, node_id: str) -> float:
        """The loss in % allowed at a node."""
        return self.nodes.get(node_id, self.tolerance)


@dataclass(frozen=True, slots=True)
class AllocationRule:
    """How a shared meter is split: fixed `shares`, or `centres` measured by their nodes."""

    node: str
    by: str
    shares: Mapping[str, float] = field(default_factory=dict)
    centres: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    interval: str = "hour"


@dataclass(frozen=True, slots=True)
class ScheduledReport:
    """A report generated for the last closed period and sent to notify targets."""

    name: str
    node: str
    period: str
    format: str
    at: int
    day: int
    month: int
    notify: tuple[str, ...]


BALANCE_SCHEMA: Final = vol.Schema({
    vol.Optional("tolerance", default=DEFAULT_TOLERANCE): _PERCENT,
    vol.Optional("nodes", default={}): {cv.slug: _PERCENT},
    vol.Optional("check_at", default="00:30"): time_of_day,
    vol.Optional("severity", default="warning"): vol.In(("critical", "major", "minor",
                                                         "warning")),
})

_RULE_SCHEMA: Final = vol.Schema({
    vol.Required("node"): cv.slug,
    vol.Required("by"): vol.In((BY_RATIO, BY_MEASURED)),
    vol.Optional("shares"): {cv.string: vol.All(vol.Coerce(float), vol.Range(min=0))},
    vol.Optional("centres"): {cv.string: vol.All(cv.ensure_list, [cv.slug],
                                                 vol.Length(min=1))},
    vol.Optional("interval", default="hour"): vol.In(INTERVALS),
})

_REPORT_SCHEMA: Final = vol.Schema({
    vol.Required("name"): cv.slug,
    vol.Required("node"): cv.slug,
    vol.Required("period"): vol.In(REPORT_PERIODS),
    vol.Optional("format", default="xlsx"): vol.In(REPORT_FORMATS),
    vol.Optional("at", default="08:00"): time_of_day,
    vol.Optional("day", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=28)),
    vol.Optional("month", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=12)),
    vol.Optional("notify", default=[]): vol.All(cv.ensure_list, [cv.slug]),
})


def _unknown(node_id: str, nodes: Mapping[str, MeterNode]) -> str:
    return f"no node '{node_id}' in the meter tree (nodes: {', '.join(nodes) or 'none'})"


def balance_options(value: Any, nodes: Mapping[str, MeterNode]) -> BalanceOptions:
    """The `balance:` block (empty means the defaults), its node ids checked."""
    block = BALANCE_SCHEMA(value or {})
    for node_id in block["nodes"]:
        if node_id not in nodes:
            raise vol.Invalid(_unknown(node_id, nodes), path=["nodes", node_id])
    return BalanceOptions(block["tolerance"], block["nodes"], block["check_at"],
                          block["severity"])


def allocation_rules(value: Any, nodes: Mapping[str, MeterNode]) -> tuple[AllocationRule, ...]:
    """The `allocation:` list, node ids and shares checked."""
    rules = []
    for index, raw in enumerate(cv.ensure_list(value or [])):
        try:
            rules.append(_rule(raw, nodes))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index, *err.path]) from None
    return tuple(rules)


def _rule(raw: Any, nodes: Mapping[str, MeterNode]) -> AllocationRule:
    block = _RULE_SCHEMA(raw)
    node_id = block["node"]
    if node_id not in nodes:
        raise vol.Invalid(_unknown(node_id, nodes), path=["node"])
    if block["by"] == BY_MEASURED:
        centres = block.get("centres")
        if not centres:
            raise vol.Invalid("'by: measured' needs 'centres': each cost centre with the nodes "
                              "whose energy measures its share", path=["centres"])
        for centre, members in centres.items():
            for member in members:
                if member not in nodes:
                    raise vol.Invalid(_unknown(member, nodes), path=["centres", centre])
        return AllocationRule(node_id, BY_MEASURED,
                              centres={name: tuple(ids) for name, ids in centres.items()},
                              interval=block["interval"])
    shares = block.get("shares") or dict(nodes[node_id].cost_centres)
    total = sum(shares.values())
    if not shares or abs(total - 1) > 1e-9:
        raise vol.Invalid(f"'by: ratio' needs 'shares' adding up to 1 (they add up to "
                          f"{total:g}), or cost_centre shares on node '{node_id}'",
                          path=["shares"])
    return AllocationRule(node_id, BY_RATIO, shares=shares, interval=block["interval"])


def scheduled_reports(value: Any,
                      nodes: Mapping[str, MeterNode]) -> tuple[ScheduledReport, ...]:
    """The `reports:` list, node ids and unique names checked."""
    reports: list[ScheduledReport] = []
    for index, raw in enumerate(cv.ensure_list(value or [])):
        try:
            block = _REPORT_SCHEMA(raw)
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index, *err.path]) from None
        if block["node"] not in nodes:
            raise vol.Invalid(_unknown(block["node"], nodes), path=[index, "node"])
        if any(report.name == block["name"] for report in reports):
            raise vol.Invalid(f"report name '{block['name']}' is used twice",
                              path=[index, "name"])
        reports.append(ScheduledReport(block["name"], block["node"], block["period"],
                                       block["format"], block["at"], block["day"],
                                       block["month"], tuple(block["notify"])))
    return tuple(reports)
