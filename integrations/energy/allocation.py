"""Allocation of shared meters to cost centres, by fixed ratio or by measured share.

By ratio, a centre gets its fixed share of the shared meter's energy and cost (the rule's
`shares`, or the node's `cost_centre` shares in the tree: a tree node with two or more
centres is allocated this way without a rule). By measured share, each `interval` (hour,
day or month) of the shared meter's energy is split in proportion to the energy the centre's
own nodes used in that same interval, and its cost with it (each interval's cost at its
time-of-use prices). An interval in which none of the centres' nodes used anything stays
`unallocated`.

The service `energy.allocation {period: day|month|year, date}` answers per shared meter
(amount, cost, method, per centre amount, cost and share) and per cost centre (cost, and
amount per unit).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.recorder import get_recorder
from plantpulse.core.services import ServiceCall, ServiceField, SupportsResponse
from plantpulse.integrations.energy.const import DOMAIN, ENERGY_UNITS
from plantpulse.integrations.energy.cost import tidy
from plantpulse.integrations.energy.options import BY_MEASURED, BY_RATIO, AllocationRule
from plantpulse.integrations.energy.report import ReportError, StatisticsSource
from plantpulse.integrations.energy.reports import (
    DAY,
    MONTH,
    YEAR,
    Span,
    async_rows,
    parse_span,
)
from plantpulse.integrations.energy.tariff import TariffError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.integrations.energy.config import EnergyConfig

ALLOCATION_SCHEMA: Final = vol.Schema({
    vol.Required("period"): vol.In((DAY, MONTH, YEAR)),
    vol.Required("date"): cv.string,
})


def allocation_rules_of(config: EnergyConfig) -> list[AllocationRule]:
    """The configured rules, and a ratio rule for every tree node shared by cost_centre."""
    rules = list(config.allocation)
    covered = {rule.node for rule in rules}
    for node_id, node in config.nodes.items():
        if node_id not in covered and len(node.cost_centres) > 1:
            rules.append(AllocationRule(node_id, BY_RATIO, shares=dict(node.cost_centres),
                                        interval=MONTH))
    return rules


def split(shared_amounts: np.ndarray, shared_costs: np.ndarray,
          weights: Mapping[str, np.ndarray]) -> tuple[dict[str, tuple[float, float]],
                                                      tuple[float, float]]:
    """Split per-interval amounts and costs by per-interval weights: per centre (amount,
    cost), and what no weight covered."""
    total = sum(weights.values(), np.zeros(len(shared_amounts)))
    covered = total > 0
    safe = np.where(covered, total, 1.0)
    result = {}
    for centre, weight in weights.items():
        fraction = np.where(covered, weight / safe, 0.0)
        result[centre] = (float((shared_amounts * fraction).sum()),
                          float((shared_costs * fraction).sum()))
    return result, (float(shared_amounts[~covered].sum()), float(shared_costs[~covered].sum()))


async def async_allocation(hub: Hub, source: StatisticsSource, config: EnergyConfig,
                           span: Span) -> dict[str, Any]:
    """The allocation of every shared meter over `span`."""
    meters: dict[str, Any] = {}
    centres: dict[str, dict[str, Any]] = {}
    for rule in allocation_rules_of(config):
        node = config.nodes[rule.node]
        members = [member for ids in rule.centres.values() for member in ids]
        _edges, rows = await async_rows(hub, source, config,
                                        list(dict.fromkeys([rule.node, *members])), span,
                                        rule.interval)
        shared = rows[rule.node]
        amounts, costs = shared.amounts.sum(axis=1), shared.costs.sum(axis=1)
        if rule.by == BY_MEASURED:
            weights = {centre: sum((rows[member].row_amounts for member in ids),
                                   np.zeros(len(amounts)))
                       for centre, ids in rule.centres.items()}
        else:
            weights = {centre: np.full(len(amounts), share)
                       for centre, share in rule.shares.items()}
        parts, (left_amount, left_cost) = split(amounts, costs, weights)
        total_amount, total_cost = float(amounts.sum()), float(costs.sum())
        priced = node.tariff is not None
        unit = ENERGY_UNITS[node.energy_type]
        meters[rule.node] = {
            "name": node.name, "unit": unit, "method": rule.by, "interval": rule.interval,
            "amount": tidy(total_amount), "cost": round(total_cost, 2) if priced else None,
            "complete": bool(shared.complete.all()),
            "centres": {centre: {
                "amount": tidy(amount, 6),
                "cost": round(cost, 2) if priced else None,
                "share_pct": round(amount / total_amount * 100, 2) if total_amount else 0.0,
            } for centre, (amount, cost) in parts.items()},
            "unallocated": {"amount": tidy(left_amount, 6),
                            "cost": round(left_cost, 2) if priced else None},
        }
        for centre, (amount, cost) in parts.items():
            entry = centres.setdefault(centre, {"cost": 0.0, "amounts": {}})
            entry["cost"] = round(entry["cost"] + cost, 2)
            entry["amounts"][unit] = tidy(entry["amounts"].get(unit, 0.0) + amount, 6)
    return {"period": span.kind, "date": span.label, "start": span.start_time.isoformat(),
            "end": span.end_time.isoformat(), "currency": hub.site.currency,
            "meters": meters, "cost_centres": centres}


def async_setup_allocation(hub: Hub, config: EnergyConfig) -> None:
    """Register `energy.allocation`."""

    async def allocation(call: ServiceCall) -> dict[str, Any]:
        try:
            span = parse_span(call.data["period"], call.data["date"], hub.site.tz)
            recorder = get_recorder(hub)
            if recorder is None:
                raise ReportError("allocation reads the recorder's statistics: add "
                                  "'recorder:' to the configuration")
            return await async_allocation(hub, recorder, config, span)
        except (ReportError, TariffError) as err:
            raise ServiceValidationError(str(err)) from None

    hub.services.async_register(
        DOMAIN, "allocation", allocation, ALLOCATION_SCHEMA,
        supports_response=SupportsResponse.ONLY, name="Shared meter allocation",
        description="Energy and cost of shared meters split between cost centres, by fixed "
        "ratio or in proportion to the centres' own metered energy in the same interval.",
        fields={
            "period": ServiceField("day, month or year", example="month", required=True),
            "date": ServiceField("2026-03-01, 2026-03 or 2026 (site time zone)",
                                 example="2026-03", required=True),
        },
    )
