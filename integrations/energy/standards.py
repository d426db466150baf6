"""Standard coal coefficients of GB/T 2589-2020 (综合能耗计算通则), the one place they live.

Source: GB/T 2589-2020 "General rules for calculation of the comprehensive energy
consumption", Appendix A (reference coefficients for converting energy to standard coal,
各种能源折标准煤参考系数) and Appendix B (energy-consuming working media, 耗能工质, at
their equivalent values). 1 kgce is 29.3076 MJ (7,000 kcal). Electricity and heat are at
their equivalent (当量值) values: 3.6 MJ/kWh gives 0.1229 kgce/kWh. Where the standard gives
a range (natural gas by source, coke-oven gas, biogas), each end is its own entry, and the
default for the energy type is named in ENERGY_TYPE_DEFAULTS. Plants with measured calorific
values override any entry under `energy: coefficients:`, in kgce per the entry's unit
(heat per MJ, steam per kg), by key as below or by energy type (`natural_gas`, `steam`):

    energy:
      coefficients:
        natural_gas: 1.3300       # this site's gas comes from an oil field
        diesel: 1.46

The working-media values of Appendix B are reference values that depend on how a plant
makes the medium; the standard asks for the plant's own figures where it has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from plantpulse.integrations.energy.const import EnergyType

STANDARD: Final = "GB/T 2589-2020"
MJ_PER_KGCE: Final = 29.3076


@dataclass(frozen=True, slots=True)
class Coefficient:
    """kgce per `unit` of an energy carrier, with its Chinese name and where it comes from."""

    kgce: float
    unit: str
    name_zh: str
    source: str


def _a(kgce: float, unit: str, name_zh: str) -> Coefficient:
    return Coefficient(kgce, unit, name_zh, f"{STANDARD} Appendix A")


def _b(kgce: float, unit: str, name_zh: str) -> Coefficient:
    return Coefficient(kgce, unit, name_zh, f"{STANDARD} Appendix B")


COEFFICIENTS: Final[Mapping[str, Coefficient]] = {
    "raw_coal": _a(0.7143, "kg", "原煤"),
    "cleaned_coal": _a(0.9000, "kg", "洗精煤"),
    "coke": _a(0.9714, "kg", "焦炭"),
    "crude_oil": _a(1.4286, "kg", "原油"),
    "fuel_oil": _a(1.4286, "kg", "燃料油"),
    "gasoline": _a(1.4714, "kg", "汽油"),
    "kerosene": _a(1.4714, "kg", "煤油"),
    "diesel": _a(1.4571, "kg", "柴油"),
    "lpg": _a(1.7143, "kg", "液化石油气"),
    "refinery_gas": _a(1.5714, "kg", "炼厂干气"),
    "natural_gas_gas_field": _a(1.2143, "m³", "天然气(气田)"),
    "natural_gas_oil_field": _a(1.3300, "m³", "天然气(油田)"),
    "coke_oven_gas_low": _a(0.5714, "m³", "焦炉煤气(低值)"),
    "coke_oven_gas_high": _a(0.6143, "m³", "焦炉煤气(高值)"),
    "blast_furnace_gas": _a(0.1286, "m³", "高炉煤气"),
    "producer_gas": _a(0.1786, "m³", "发生炉煤气"),
    "water_gas": _a(0.3571, "m³", "水煤气"),
    "coal_tar": _a(1.1429, "kg", "煤焦油"),
    "crude_benzene": _a(1.4286, "kg", "粗苯"),
    "biogas_low": _a(0.7143, "m³", "沼气(低值)"),
    "biogas_high": _a(0.8286, "m³", "沼气(高值)"),
    "heat": _a(0.03412, "MJ", "热力(当量值)"),
    "electricity": _a(0.1229, "kWh", "电力(当量值)"),
    "steam_low_pressure": _a(0.1286, "kg", "蒸汽(低压)"),
    "fresh_water": _b(0.2571, "t", "新水"),
    "softened_water": _b(0.4857, "t", "软化水"),
    "deaerated_water": _b(0.9714, "t", "除氧水"),
    "compressed_air": _b(0.0400, "m³", "压缩空气"),
    "blast_air": _b(0.0300, "m³", "鼓风"),
    "oxygen": _b(0.4000, "m³", "氧气"),
    "nitrogen": _b(0.4000, "m³", "氮气"),
    "carbon_dioxide": _b(0.2143, "m³", "二氧化碳气"),
}

# The entry each meter energy type converts with, in the unit its meters read (see
# ENERGY_UNITS): heat meters read GJ (1,000 MJ) and steam meters tonnes (1,000 kg).
ENERGY_TYPE_DEFAULTS: Final[Mapping[EnergyType, tuple[str, float]]] = {
    EnergyType.ELECTRICITY: ("electricity", 1.0),
    EnergyType.NATURAL_GAS: ("natural_gas_gas_field", 1.0),
    EnergyType.HEAT: ("heat", 1000.0),
    EnergyType.STEAM: ("steam_low_pressure", 1000.0),
    EnergyType.WATER: ("fresh_water", 1.0),
    EnergyType.COMPRESSED_AIR: ("compressed_air", 1.0),
}


def kgce_per_unit(energy_type: EnergyType, overrides: Mapping[str, float]) -> float:
    """kgce per unit a meter of `energy_type` reads in: the site's override (by energy type
    or by the carrier's key, per the carrier's unit), else the standard's coefficient."""
    key, scale = ENERGY_TYPE_DEFAULTS[energy_type]
    per_unit = overrides.get(energy_type.value, overrides.get(key, COEFFICIENTS[key].kgce))
    return per_unit * scale
