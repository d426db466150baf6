"""What one value of a device is: where its registers are and how they become a number.

The same fields describe a sensor in `configuration.yaml` and in a meter profile file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.platforms.sensor import SensorDeviceClass, StateClass
from plantpulse.integrations.modbus.codec import DATA_TYPES, ORDERS, register_count
from plantpulse.integrations.modbus.const import MULTIPLIERS
from plantpulse.integrations.modbus.plan import BIT_TABLES, HOLDING, TABLES, Span

CONF_ADDRESS: Final = "address"
CONF_INPUT_TYPE: Final = "input_type"
CONF_DATA_TYPE: Final = "data_type"
CONF_WORD_ORDER: Final = "word_order"
CONF_BYTE_ORDER: Final = "byte_order"
CONF_SCALE: Final = "scale"
CONF_OFFSET: Final = "offset"
CONF_PRECISION: Final = "precision"
CONF_UNIT: Final = "unit_of_measurement"
CONF_DEVICE_CLASS: Final = "device_class"
CONF_STATE_CLASS: Final = "state_class"
CONF_MULTIPLIER: Final = "multiplier"

# Register layout fields a profile may set once for all its sensors.
LAYOUT_DEFAULTS: Final = {
    CONF_INPUT_TYPE: HOLDING,
    CONF_DATA_TYPE: "uint16",
    CONF_WORD_ORDER: "big",
    CONF_BYTE_ORDER: "big",
}


def _address(value: Any) -> int:
    """A register address, 0..65535, written as a number or a hex string ("0x2012")."""
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError as err:
            raise vol.Invalid(f"expected an address such as 8210 or 0x2012, got {value!r}") \
                from err
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
        raise vol.Invalid(f"expected an address from 0 to 65535 (0xFFFF), got {value!r}")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise vol.Invalid("expected a number")
    return float(vol.Coerce(float)(value))


# Fields of a value; `name` and the layout defaults are added by the two users of this.
VALUE_FIELDS: Final[dict[Any, Any]] = {
    vol.Required(CONF_ADDRESS): _address,
    vol.Optional(CONF_INPUT_TYPE): vol.In(TABLES),
    vol.Optional(CONF_DATA_TYPE): vol.In(sorted(DATA_TYPES)),
    vol.Optional(CONF_WORD_ORDER): vol.In(ORDERS),
    vol.Optional(CONF_BYTE_ORDER): vol.In(ORDERS),
    vol.Optional(CONF_SCALE, default=1.0): _number,
    vol.Optional(CONF_OFFSET, default=0.0): _number,
    vol.Optional(CONF_PRECISION): vol.All(vol.Coerce(int), vol.Range(min=0, max=10)),
    vol.Optional(CONF_UNIT): cv.string,
    vol.Optional(CONF_DEVICE_CLASS): vol.In([str(item) for item in SensorDeviceClass]),
    vol.Optional(CONF_STATE_CLASS): vol.In([str(item) for item in StateClass]),
    vol.Optional(CONF_MULTIPLIER, default="none"): vol.In(MULTIPLIERS),
}


@dataclass(frozen=True)
class ValueSpec:
    """One value: its registers (or bit), decoding, scaling and what it measures."""

    key: str
    names: Mapping[str, str]
    table: str
    address: int
    data_type: str = "uint16"
    word_order: str = "big"
    byte_order: str = "big"
    scale: float = 1.0
    offset: float = 0.0
    precision: int | None = None
    unit: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    multiplier: str = "none"

    @cached_property  # read for every value at every poll
    def is_bit(self) -> bool:
        """Whether this is a coil or discrete input (a binary sensor)."""
        return self.table in BIT_TABLES

    @cached_property
    def span(self) -> Span:
        """The registers or bit this value occupies."""
        count = 1 if self.is_bit else register_count(self.data_type)
        return Span(self.table, self.address, count)

    @property
    def cumulative(self) -> bool:
        """A meter reading that only grows (kWh): multiplier changes must not make it jump."""
        return self.state_class == StateClass.TOTAL_INCREASING

    def name(self, language: str) -> str:
        """The name in `language`, else English, else the first one given."""
        return (self.names.get(language) or self.names.get("en")
                or next(iter(self.names.values()), self.key))


def value_spec(key: str, names: Mapping[str, str], fields: Mapping[str, Any],
               defaults: Mapping[str, Any] | None = None) -> ValueSpec:
    """A ValueSpec from validated fields, layout defaults filling what is not given."""
    merged = {**LAYOUT_DEFAULTS, **(defaults or {}), **fields}
    state_class = merged.get(CONF_STATE_CLASS)
    if state_class is None and merged.get(CONF_DEVICE_CLASS) == SensorDeviceClass.ENERGY:
        state_class = str(StateClass.TOTAL_INCREASING)
    return ValueSpec(
        key=key,
        names=dict(names),
        table=merged[CONF_INPUT_TYPE],
        address=merged[CONF_ADDRESS],
        data_type=merged[CONF_DATA_TYPE],
        word_order=merged[CONF_WORD_ORDER],
        byte_order=merged[CONF_BYTE_ORDER],
        scale=merged.get(CONF_SCALE, 1.0),
        offset=merged.get(CONF_OFFSET, 0.0),
        precision=merged.get(CONF_PRECISION),
        unit=merged.get(CONF_UNIT),
        device_class=merged.get(CONF_DEVICE_CLASS),
        state_class=state_class,
        multiplier=merged.get(CONF_MULTIPLIER, "none"),
    )
