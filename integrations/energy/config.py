"""The `energy:` block: tariffs, the meter tree, share targets and coal coefficients.

    energy:
      tariff: ningxia_10kv            # the tree's tariff unless a node names another
      targets: {sharp: 5, peak: 20, valley: 40}     # TOU share targets in %
      coefficients: {natural_gas: 1.33}             # overrides of GB/T 2589 (standards.py)
      tariffs: {...}                  # see tariff.py
      meters: [...]                   # see tree.py
      balance: {...}                  # meter balance, allocation and scheduled reports:
      allocation: [...]               # see options.py
      reports: [...]
      billing: [...]                  # grid accounts, two-part tariff: billing_config.py

Validation raises vol.Invalid with the path of the offending item, so the core names the
file and line (and drops only that item).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.billing_config import BillingAccount, billing_accounts
from plantpulse.integrations.energy.const import EnergyType, Period
from plantpulse.integrations.energy.options import (
    AllocationRule,
    BalanceOptions,
    ScheduledReport,
    allocation_rules,
    balance_options,
    scheduled_reports,
)
from plantpulse.integrations.energy.shifts import DEFAULT_CALENDAR, ShiftCalendar, shifts_option
from plantpulse.integrations.energy.standards import COEFFICIENTS
from plantpulse.integrations.energy.tariff import Tariff, tariffs_schema
from plantpulse.integrations.energy.tree import CONF_TARIFF, MeterNode, build_tree, targets
from plantpulse.integrations.energy.unit_consumption import (
    Indicator,
    unit_consumption_option,
)

CONF_TARIFFS: Final = "tariffs"
CONF_TARGETS: Final = "targets"
CONF_COEFFICIENTS: Final = "coefficients"
CONF_METERS: Final = "meters"
CONF_SHIFTS: Final = "shifts"
CONF_UNIT_CONSUMPTION: Final = "unit_consumption"
CONF_BALANCE: Final = "balance"
CONF_ALLOCATION: Final = "allocation"
CONF_REPORTS: Final = "reports"
CONF_BILLING: Final = "billing"

_COEFFICIENT_KEYS: Final = sorted({*COEFFICIENTS, *EnergyType})


def _coefficients(value: Any) -> dict[str, float]:
    if not isinstance(value, Mapping):
        raise vol.Invalid("expected a mapping of energy carriers to kgce per unit")
    result = {}
    for key, number in value.items():
        if key not in _COEFFICIENT_KEYS:
            raise vol.Invalid(f"unknown energy carrier '{key}': use one of "
                              f"{', '.join(_COEFFICIENT_KEYS)}", path=[key])
        result[str(key)] = vol.All(vol.Coerce(float), vol.Range(min=0))(number)
    return result


@dataclass(frozen=True, slots=True)
class EnergyConfig:
    """The validated `energy:` block."""

    tariffs: Mapping[str, Tariff]
    nodes: Mapping[str, MeterNode]
    coefficients: Mapping[str, float]
    balance: BalanceOptions | None = None
    allocation: tuple[AllocationRule, ...] = ()
    reports: tuple[ScheduledReport, ...] = ()
    shifts: ShiftCalendar = DEFAULT_CALENDAR
    unit_consumption: Mapping[str, Indicator] = field(default_factory=dict)
    billing: Mapping[str, BillingAccount] = field(default_factory=dict)

    def node_of_entity(self, entity_id: str) -> MeterNode | None:
        """The node that reads `entity_id`."""
        return next((node for node in self.nodes.values() if node.entity_id == entity_id),
                    None)


def _energy_block(value: Any) -> EnergyConfig:
    block = vol.Schema({
        vol.Optional(CONF_TARIFF): cv.slug,
        vol.Optional(CONF_TARGETS, default={}): targets,
        vol.Optional(CONF_COEFFICIENTS, default={}): _coefficients,
        vol.Optional(CONF_TARIFFS, default={}): tariffs_schema,
        vol.Optional(CONF_METERS, default=[]): list,
        vol.Optional(CONF_BALANCE): vol.Any(None, dict),
        vol.Optional(CONF_ALLOCATION): vol.Any(None, list),
        vol.Optional(CONF_REPORTS): vol.Any(None, list),
        vol.Optional(CONF_SHIFTS): vol.Any(None, dict),
        vol.Optional(CONF_UNIT_CONSUMPTION): vol.Any(None, list),
        vol.Optional(CONF_BILLING): vol.Any(None, list),
    })(value)
    tariffs = block[CONF_TARIFFS]
    default = block.get(CONF_TARIFF)
    if default is not None and default not in tariffs:
        raise vol.Invalid(f"tariff '{default}' is not defined under 'tariffs'",
                          path=[CONF_TARIFF])
    try:
        nodes = build_tree(block[CONF_METERS], tariffs, default, block[CONF_TARGETS])
    except vol.Invalid as err:
        raise vol.Invalid(err.msg, path=[CONF_METERS, *err.path]) from None
    extras: dict[str, Any] = {}
    for key, parse in ((CONF_BALANCE, balance_options), (CONF_ALLOCATION, allocation_rules),
                       (CONF_REPORTS, scheduled_reports), (CONF_BILLING, billing_accounts),
                       (CONF_SHIFTS, shifts_option),
                       (CONF_UNIT_CONSUMPTION, unit_consumption_option)):
        if key in block:
            try:
                extras[key] = parse(block[key], nodes)
            except vol.Invalid as err:
                raise vol.Invalid(err.msg, path=[key, *err.path]) from None
    return EnergyConfig(tariffs, nodes, block[CONF_COEFFICIENTS], **extras)


CONFIG_SCHEMA: Final = cv.empty_means_defaults(vol.Schema(_energy_block))


def period_targets(node: MeterNode) -> dict[Period, float | None]:
    """The node's target share per period (None where none is set)."""
    return {period: node.targets.get(period) for period in Period}
