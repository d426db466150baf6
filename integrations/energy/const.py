"""Names the energy integration's modules share: periods, energy types, tree levels."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "energy"
DATA_ENERGY: Final = "energy"


class Period(StrEnum):
    """Time-of-use periods, most expensive first (尖, 峰, 平, 谷, 深谷)."""

    SHARP = "sharp"
    PEAK = "peak"
    FLAT = "flat"
    VALLEY = "valley"
    DEEP_VALLEY = "deep_valley"


PERIODS: Final = tuple(Period)
PERIOD_INDEX: Final = {period: index for index, period in enumerate(PERIODS)}
PERIOD_NAMES_ZH: Final = {
    Period.SHARP: "尖", Period.PEAK: "峰", Period.FLAT: "平", Period.VALLEY: "谷",
    Period.DEEP_VALLEY: "深谷",
}


class EnergyType(StrEnum):
    """What a meter measures."""

    ELECTRICITY = "electricity"
    WATER = "water"
    NATURAL_GAS = "natural_gas"
    STEAM = "steam"
    HEAT = "heat"
    COMPRESSED_AIR = "compressed_air"


# The unit a meter of each energy type reads in (statistics are summed in it).
ENERGY_UNITS: Final = {
    EnergyType.ELECTRICITY: "kWh", EnergyType.WATER: "m³", EnergyType.NATURAL_GAS: "m³",
    EnergyType.STEAM: "t", EnergyType.HEAT: "GJ", EnergyType.COMPRESSED_AIR: "m³",
}


class Level(StrEnum):
    """Where a node sits in the meter tree, from the top."""

    SITE = "site"
    WORKSHOP = "workshop"
    LINE = "line"
    EQUIPMENT = "equipment"


LEVEL_DEPTH: Final = {level: depth for depth, level in enumerate(Level)}
