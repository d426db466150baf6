"""Meter balance: each parent node against the sum of its children of the same energy type.

Per hour, day or month: the parent's amount, the children's sum, the loss (parent minus
children) in the meter's unit and in % of the parent. A loss is line and transformer loss or
unmetered use; a negative one (children reading more than their parent) points at a meter
fault. With `balance:` configured, every day at `check_at` (hub clock, local time) the day
just closed is checked: a node whose |loss %| is above its tolerance raises the alarm
`energy_balance_<node>` (alarm integration; a persistent notification without it), a node
back within its tolerance clears it. A day without complete data for all its meters is
neither raised nor cleared.

The service `energy.balance {node, period: hour|day|month, date}` answers with the figures
(`date`: YYYY-MM-DD, YYYY-MM or YYYY, the range its rows cover).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import StopStage
from plantpulse.core.recorder import get_recorder
from plantpulse.core.services import ServiceCall, ServiceField, SupportsResponse
from plantpulse.integrations.energy.const import DOMAIN, ENERGY_UNITS
from plantpulse.integrations.energy.cost import tidy
from plantpulse.integrations.energy.options import DEFAULT_TOLERANCE
from plantpulse.integrations.energy.report import ReportError, StatisticsSource
from plantpulse.integrations.energy.reports import (
    DAY,
    HOUR,
    MONTH,
    YEAR,
    Span,
    async_rows,
    parse_span,
    row_label,
    span_of,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.integrations.energy.config import EnergyConfig
    from plantpulse.integrations.energy.options import BalanceOptions

_LOGGER = logging.getLogger(__name__)

ALARM_PREFIX: Final = "energy_balance_"
STEPS: Final = (HOUR, DAY, MONTH)
# The finest range (by the date's form) each step fits in.
_STEP_RANK: Final = {HOUR: 0, DAY: 1, MONTH: 2, YEAR: 3}

BALANCE_SCHEMA: Final = vol.Schema({
    vol.Optional("node"): cv.slug,
    vol.Optional("period", default=DAY): vol.In(STEPS),
    vol.Required("date"): cv.string,
})


def balanced_nodes(config: EnergyConfig) -> dict[str, list[str]]:
    """Each node with children of its own energy type, and those children.

    A virtual child computed from its own parent (`other = site - ws1 - ws2`) is left out:
    it is the remainder by construction, so with it the loss would always be 0.
    """
    found = {}
    for node_id, node in config.nodes.items():
        same = [child for child in node.children
                if config.nodes[child].energy_type == node.energy_type
                and not _derived_from(config, child, node_id)]
        if same:
            found[node_id] = same
    return found


def _derived_from(config: EnergyConfig, node_id: str, ancestor: str) -> bool:
    """Whether virtual `node_id` is computed, directly or through other virtual nodes, from
    `ancestor`."""
    virtual = config.nodes[node_id].virtual
    return virtual is not None and any(
        name == ancestor or _derived_from(config, name, ancestor) for name in virtual.names)


def parse_range(text: str, step: str, zone: Any) -> Span:
    """The day, month or year `text` names (by its form), checked to hold `step` rows."""
    text = str(text).strip()
    kind = {10: DAY, 7: MONTH, 4: YEAR}.get(len(text))
    if kind is None:
        raise ReportError(f"date must be YYYY-MM-DD, YYYY-MM or YYYY, got {text!r}")
    if _STEP_RANK[step] >= _STEP_RANK[kind]:
        raise ReportError(f"rows per {step} need a longer range than a {kind} ({text})")
    return parse_span(kind, text, zone)


def _loss(parent: float, children: float) -> tuple[float, float | None]:
    loss = parent - children
    return tidy(loss, 6), (round(loss / parent * 100, 3) if parent else None)


async def async_balance(hub: Hub, source: StatisticsSource, config: EnergyConfig,
                        node_ids: Sequence[str] | None, span: Span,
                        step: str) -> dict[str, Any]:
    """The balance of the nodes (all balanced nodes when None) over `span`, per `step`."""
    tree = balanced_nodes(config)
    if node_ids is None:
        node_ids = list(tree)
    for node_id in node_ids:
        if node_id not in tree:
            raise ReportError(f"node '{node_id}' has no child meters of its energy type to "
                              f"balance against (balanced nodes: {', '.join(tree) or 'none'})")
    wanted = list(dict.fromkeys([*node_ids, *(child for node_id in node_ids
                                              for child in tree[node_id])]))
    edges, rows = await async_rows(hub, source, config, wanted, span, step, priced=False)
    options = config.balance
    result: dict[str, Any] = {}
    for node_id in node_ids:
        node = config.nodes[node_id]
        tolerance = options.tolerance_of(node_id) if options else DEFAULT_TOLERANCE
        parent = rows[node_id].row_amounts
        children = sum(rows[child].row_amounts for child in tree[node_id])
        complete = rows[node_id].complete.copy()
        for child in tree[node_id]:
            complete &= rows[child].complete
        entries = []
        for row, moment in enumerate(edges[:-1]):
            loss, pct = _loss(float(parent[row]), float(children[row]))
            entries.append({
                "label": row_label(float(moment), step, span.zone),
                "start": datetime.fromtimestamp(float(moment), span.zone).isoformat(),
                "parent": tidy(parent[row], 6), "children": tidy(children[row], 6),
                "loss": loss, "loss_pct": pct, "complete": bool(complete[row]),
                "over_tolerance": pct is not None and abs(pct) > tolerance,
            })
        loss, pct = _loss(float(parent.sum()), float(children.sum()))
        result[node_id] = {
            "name": node.name, "type": node.energy_type.value,
            "unit": ENERGY_UNITS[node.energy_type], "children_nodes": tree[node_id],
            "tolerance_pct": tolerance, "parent": tidy(parent.sum(), 6),
            "children": tidy(children.sum(), 6), "loss": loss, "loss_pct": pct,
            "complete": bool(complete.all()),
            "over_tolerance": pct is not None and abs(pct) > tolerance, "rows": entries,
        }
    return {"period": step, "date": span.label, "start": span.start_time.isoformat(),
            "end": span.end_time.isoformat(), "nodes": result}


class BalanceCheck:
    """The daily check of the day just closed, raising and clearing balance alarms."""

    def __init__(self, hub: Hub, config: EnergyConfig, options: BalanceOptions) -> None:
        self._hub = hub
        self._config = config
        self._options = options
        self._cancel: Any = None

    def async_start(self) -> None:
        """Schedule the next check."""
        zone = self._hub.site.tz
        now = self._hub.clock.now().astimezone(zone)
        at = datetime.combine(now.date(), datetime.min.time(), zone) + timedelta(
            minutes=self._options.check_at)
        if at <= now:
            at = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), zone) \
                + timedelta(minutes=self._options.check_at)
        self._cancel = self._hub.async_call_at(at, self._async_run, "energy balance check")

    def async_stop(self) -> None:
        """Cancel the next check."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    async def _async_run(self) -> None:
        self.async_start()
        today = self._hub.clock.now().astimezone(self._hub.site.tz).date()
        try:
            await self.async_check(today - timedelta(days=1))
        except ReportError as err:
            _LOGGER.warning("Meter balance check skipped: %s", err)

    async def async_check(self, day: date) -> None:
        """Check `day`: raise an alarm per node over its tolerance, clear those within."""
        recorder = get_recorder(self._hub)
        if recorder is None or not balanced_nodes(self._config):
            return
        span = span_of(DAY, day, self._hub.site.tz)
        figures = await async_balance(self._hub, recorder, self._config, None, span, DAY)
        alarms = self._hub.data.get("alarm")
        for node_id, entry in figures["nodes"].items():
            key = f"{ALARM_PREFIX}{node_id}"
            if not entry["complete"]:
                _LOGGER.info("Meter balance of %s on %s not checked: incomplete data",
                             node_id, span.label)
                continue
            if not entry["over_tolerance"]:
                if alarms is not None:
                    await alarms.async_clear(key)
                continue
            node = self._config.nodes[node_id]
            messages = _messages(node.name, span.label, entry)
            if alarms is None:
                language = "zh-CN" if self._hub.site.language == "zh-CN" else "en"
                self._hub.notifications.async_create(messages[language], "Meter balance", key)
                continue
            await alarms.async_raise(
                key, self._options.severity, messages, source=node.entity_id,
                data={"node": node_id, "date": span.label, "parent": entry["parent"],
                      "children": entry["children"], "loss": entry["loss"],
                      "loss_pct": entry["loss_pct"], "tolerance_pct": entry["tolerance_pct"]})


def _messages(name: str, label: str, entry: dict[str, Any]) -> dict[str, str]:
    unit, pct, tolerance = entry["unit"], entry["loss_pct"], entry["tolerance_pct"]
    loss = round(entry["loss"], 2)
    if pct >= 0:
        return {
            "zh-CN": f"{name} {label} 表计平衡损耗 {pct:.2f}% ({loss} {unit}), "
                     f"超过允许的 {tolerance:g}%",
            "en": f"{name} meter balance loss {pct:.2f}% ({loss} {unit}) on {label}, above "
                  f"the {tolerance:g}% tolerance",
        }
    return {
        "zh-CN": f"{name} {label} 下级表计之和比本表多 {-pct:.2f}% ({-loss} {unit}), 超过允许的 "
                 f"{tolerance:g}%, 请检查表计",
        "en": f"{name}: its child meters read {-pct:.2f}% ({-loss} {unit}) more than it on "
              f"{label}, beyond the {tolerance:g}% tolerance: check the meters",
    }


def async_setup_balance(hub: Hub, config: EnergyConfig) -> None:
    """Register `energy.balance` and, with `balance:` configured, the daily check."""

    async def balance(call: ServiceCall) -> dict[str, Any]:
        try:
            step = call.data["period"]
            span = parse_range(call.data["date"], step, hub.site.tz)
            recorder = get_recorder(hub)
            if recorder is None:
                raise ReportError("the balance reads the recorder's statistics: add "
                                  "'recorder:' to the configuration")
            node = call.data.get("node")
            return await async_balance(hub, recorder, config, [node] if node else None, span,
                                       step)
        except ReportError as err:
            raise ServiceValidationError(str(err)) from None

    hub.services.async_register(
        DOMAIN, "balance", balance, BALANCE_SCHEMA, supports_response=SupportsResponse.ONLY,
        name="Meter balance",
        description="Parent meters against the sum of their child meters of the same energy "
        "type: loss in the meter's unit and in %, per hour, day or month, with the tolerance.",
        fields={
            "node": ServiceField("A node with child meters (default: all of them)",
                                 example="workshop_1"),
            "period": ServiceField("Rows per hour, day (the default) or month", example="day"),
            "date": ServiceField("The range: YYYY-MM-DD, YYYY-MM or YYYY", example="2026-03",
                                 required=True),
        },
    )
    if config.balance is not None:
        check = BalanceCheck(hub, config, config.balance)
        check.async_start()
        hub.async_on_stop(check.async_stop, StopStage.INTEGRATIONS)
