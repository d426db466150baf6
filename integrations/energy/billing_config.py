"""The `billing:` accounts of the energy block: the grid company's bill for an incomer meter.

    energy:
      billing:
        - id: main                      # sensors sensor.main_demand, sensor.main_max_demand
          name: 2号变进线
          meter: main                   # a node of the meter tree (electricity, with a tariff)
          reading_day: 25               # 抄表日: months run 25th 00:00 to the next 25th
          power: sensor.main_kw         # optional: 15-minute demand from a power sensor's
                                        # average instead of the meter's kWh
          basic_charge:
            method: contract_demand     # capacity | contract_demand | actual_demand | none
            capacity_kva: 2000          # installed transformer (and HV motor) capacity
            capacity_price: 25          # 元/kVA·month
            demand_price: 38            # 元/kW·month
            contract_demand: 900        # kW, 合同最大需量
          power_factor:
            standard: 0.90              # 0.90, 0.85 or 0.80
            reactive: [sensor.main_kvarh]   # kvarh meters, or
            # sensor: sensor.main_pf    # a power factor sensor (time-weighted mean)

The two-part tariff's rules (numbers overridable under `basic_charge:`):
- 发改办价格〔2016〕1583号 (国家发展改革委办公厅关于完善两部制电价用户基本电价执行方式的通知):
  the customer chooses capacity or demand; by contract demand, a month's maximum demand up
  to 105 % of the contract is charged at the contract value, the part above 105 % at double
  price (`over_contract_ratio: 1.05`, `over_contract_factor: 2`); a contract demand below
  40 % of the installed capacity is taken as 40 % (`min_contract_ratio: 0.4`).
- 发改价格〔2023〕526号 (third regulatory period of provincial transmission and distribution
  prices): demand may also be charged by the actual maximum demand (`actual_demand`); a
  demand-charged customer whose month used 260 kWh or more per kVA of capacity pays 90 % of
  the demand price that month (`high_use_kwh_per_kva: 260`, `high_use_price_ratio: 0.9`;
  bills show it as 月每千伏安用电量 and 折扣需量电费). Set `high_use_kwh_per_kva: 0` where a
  province does not apply it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.const import EnergyType
from plantpulse.integrations.energy.power_factor import STANDARDS
from plantpulse.integrations.energy.tree import MeterNode

CONF_ID: Final = "id"
CONF_NAME: Final = "name"
CONF_METER: Final = "meter"
CONF_READING_DAY: Final = "reading_day"
CONF_POWER: Final = "power"
CONF_BASIC_CHARGE: Final = "basic_charge"
CONF_POWER_FACTOR: Final = "power_factor"
CONF_METHOD: Final = "method"
CONF_CAPACITY_KVA: Final = "capacity_kva"
CONF_CAPACITY_PRICE: Final = "capacity_price"
CONF_DEMAND_PRICE: Final = "demand_price"
CONF_CONTRACT_DEMAND: Final = "contract_demand"
CONF_OVER_RATIO: Final = "over_contract_ratio"
CONF_OVER_FACTOR: Final = "over_contract_factor"
CONF_MIN_CONTRACT_RATIO: Final = "min_contract_ratio"
CONF_HIGH_USE: Final = "high_use_kwh_per_kva"
CONF_HIGH_USE_RATIO: Final = "high_use_price_ratio"
CONF_STANDARD: Final = "standard"
CONF_REACTIVE: Final = "reactive"
CONF_SENSOR: Final = "sensor"
CONF_READING_GRACE: Final = "reading_grace"

# 发改办价格〔2016〕1583号 and 发改价格〔2023〕526号 (see the module docstring).
OVER_CONTRACT_RATIO: Final = 1.05
OVER_CONTRACT_FACTOR: Final = 2.0
MIN_CONTRACT_RATIO: Final = 0.4
HIGH_USE_KWH_PER_KVA: Final = 260.0
HIGH_USE_PRICE_RATIO: Final = 0.9


class Method(StrEnum):
    """How the basic charge (基本电费) is billed."""

    CAPACITY = "capacity"
    CONTRACT_DEMAND = "contract_demand"
    ACTUAL_DEMAND = "actual_demand"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class BasicChargeSettings:
    """Prices and rules of the basic charge; None where not configured."""

    method: Method
    capacity_kva: float | None
    capacity_price: float | None
    demand_price: float | None
    contract_kw: float | None
    over_ratio: float = OVER_CONTRACT_RATIO
    over_factor: float = OVER_CONTRACT_FACTOR
    min_contract_ratio: float = MIN_CONTRACT_RATIO
    high_use_kwh_per_kva: float = HIGH_USE_KWH_PER_KVA
    high_use_price_ratio: float = HIGH_USE_PRICE_RATIO


@dataclass(frozen=True, slots=True)
class BillingAccount:
    """One grid account: its meter, billing month, demand source, basic charge and PF."""

    account_id: str
    name: str
    node_id: str
    entity_id: str
    reading_day: int | None
    power_entity: str | None
    basic: BasicChargeSettings
    pf_standard: float | None
    reactive_entities: tuple[str, ...]
    pf_entity: str | None
    reading_grace: float


_PRICE: Final = vol.All(vol.Coerce(float), vol.Range(min=0))
_POSITIVE: Final = vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False))

_BASIC_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_METHOD): vol.Coerce(Method),
    vol.Optional(CONF_CAPACITY_KVA): _POSITIVE,
    vol.Optional(CONF_CAPACITY_PRICE): _PRICE,
    vol.Optional(CONF_DEMAND_PRICE): _PRICE,
    vol.Optional(CONF_CONTRACT_DEMAND): _POSITIVE,
    vol.Optional(CONF_OVER_RATIO, default=OVER_CONTRACT_RATIO): vol.All(
        vol.Coerce(float), vol.Range(min=1)),
    vol.Optional(CONF_OVER_FACTOR, default=OVER_CONTRACT_FACTOR): vol.All(
        vol.Coerce(float), vol.Range(min=1)),
    vol.Optional(CONF_MIN_CONTRACT_RATIO, default=MIN_CONTRACT_RATIO): vol.All(
        vol.Coerce(float), vol.Range(min=0, max=1)),
    vol.Optional(CONF_HIGH_USE, default=HIGH_USE_KWH_PER_KVA): _PRICE,
    vol.Optional(CONF_HIGH_USE_RATIO, default=HIGH_USE_PRICE_RATIO): vol.All(
        vol.Coerce(float), vol.Range(min=0, max=1)),
})


def _standard(value: Any) -> float:
    number = vol.Coerce(float)(value)
    for standard in STANDARDS:
        if abs(number - standard) < 1e-9:
            return standard
    raise vol.Invalid(f"power factor standard must be one of "
                      f"{', '.join(f'{item:.2f}' for item in STANDARDS)}, got {value!r}")


_PF_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_STANDARD): _standard,
    vol.Exclusive(CONF_REACTIVE, "source"): vol.All(cv.ensure_list, [cv.entity_id],
                                                    vol.Length(min=1)),
    vol.Exclusive(CONF_SENSOR, "source"): cv.entity_id,
})

_ACCOUNT_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_ID): cv.slug,
    vol.Optional(CONF_NAME): cv.string,
    vol.Required(CONF_METER): cv.slug,
    vol.Optional(CONF_READING_DAY): vol.All(vol.Coerce(int), vol.Range(min=1, max=28)),
    vol.Optional(CONF_POWER): cv.entity_id,
    vol.Optional(CONF_BASIC_CHARGE, default={CONF_METHOD: Method.NONE}): _BASIC_SCHEMA,
    vol.Optional(CONF_POWER_FACTOR): _PF_SCHEMA,
    vol.Optional(CONF_READING_GRACE, default=60): vol.All(vol.Coerce(float),
                                                          vol.Range(min=0, max=600)),
})

_NEEDS: Final = {
    Method.CAPACITY: (CONF_CAPACITY_KVA, CONF_CAPACITY_PRICE),
    Method.CONTRACT_DEMAND: (CONF_DEMAND_PRICE, CONF_CONTRACT_DEMAND),
    Method.ACTUAL_DEMAND: (CONF_DEMAND_PRICE,),
    Method.NONE: (),
}


def _basic(block: Mapping[str, Any]) -> BasicChargeSettings:
    method = block[CONF_METHOD]
    missing = [key for key in _NEEDS[method] if key not in block]
    if missing:
        raise vol.Invalid(f"the basic charge by {method} needs {', '.join(missing)}",
                          path=[CONF_BASIC_CHARGE])
    return BasicChargeSettings(
        method, block.get(CONF_CAPACITY_KVA), block.get(CONF_CAPACITY_PRICE),
        block.get(CONF_DEMAND_PRICE), block.get(CONF_CONTRACT_DEMAND), block[CONF_OVER_RATIO],
        block[CONF_OVER_FACTOR], block[CONF_MIN_CONTRACT_RATIO], block[CONF_HIGH_USE],
        block[CONF_HIGH_USE_RATIO])


def billing_accounts(value: Any, nodes: Mapping[str, MeterNode]) -> dict[str, BillingAccount]:
    """Validate the `billing:` list against the meter tree: accounts by id."""
    accounts: dict[str, BillingAccount] = {}
    for index, raw in enumerate(cv.ensure_list(value) if value is not None else []):
        try:
            block = _ACCOUNT_SCHEMA(raw)
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index, *err.path]) from None
        account_id = block[CONF_ID]
        if account_id in accounts:
            raise vol.Invalid(f"billing account '{account_id}' is defined twice",
                              path=[index, CONF_ID])
        node = nodes.get(block[CONF_METER])
        if node is None:
            raise vol.Invalid(f"meter '{block[CONF_METER]}' is not a node of the energy meter "
                              f"tree (nodes: {', '.join(nodes) or 'none'})",
                              path=[index, CONF_METER])
        if node.entity_id is None or node.energy_type is not EnergyType.ELECTRICITY:
            raise vol.Invalid(f"meter '{node.node_id}' must be a real electricity meter (an "
                              "entity, not a virtual node) to be billed", path=[index, CONF_METER])
        if node.tariff is None:
            raise vol.Invalid(f"meter '{node.node_id}' has no tariff: set 'tariff:' under "
                              "energy: or on the node", path=[index, CONF_METER])
        try:
            basic = _basic(block[CONF_BASIC_CHARGE])
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[index, *err.path]) from None
        power_factor = block.get(CONF_POWER_FACTOR) or {}
        accounts[account_id] = BillingAccount(
            account_id=account_id,
            name=block.get(CONF_NAME, node.name),
            node_id=node.node_id,
            entity_id=node.entity_id,
            reading_day=block.get(CONF_READING_DAY),
            power_entity=block.get(CONF_POWER),
            basic=basic,
            pf_standard=power_factor.get(CONF_STANDARD),
            reactive_entities=tuple(power_factor.get(CONF_REACTIVE, ())),
            pf_entity=power_factor.get(CONF_SENSOR),
            reading_grace=block[CONF_READING_GRACE],
        )
    return accounts
