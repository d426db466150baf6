"""input_number: a number people set (a threshold, a target), used by automations.

    input_number:
      night_base_load_limit:
        name: 夜间基荷限值
        min: 0
        max: 200
        step: 0.5
        initial: 40          # optional: the value at every start; without it the last returns
        mode: box            # slider (default) or box
        unit_of_measurement: kW

State a float string (`"40.0"`); attributes min, max, step, mode, unit_of_measurement.
Services `input_number.set_value {value}`, `increment`, `decrement` (stopping at min/max),
`reload`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.entity import EntityService
from plantpulse.core.platforms.number import NumberEntity
from plantpulse.core.states import State
from plantpulse.integrations.input_boolean.collection import (
    BASE_SCHEMA,
    CONF_INITIAL,
    HelperEntity,
    async_setup_helpers,
    helpers_schema,
    initial_or_restored,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN: Final = "input_number"
CONF_MIN: Final = "min"
CONF_MAX: Final = "max"
CONF_STEP: Final = "step"
CONF_MODE: Final = "mode"
CONF_UNIT: Final = "unit_of_measurement"
MODES: Final = ("slider", "box")
MIN_STEP: Final = 1e-9
# Values are rounded to the finest step allowed, so 0.1 + 0.2 is stored as 0.3.
DECIMALS: Final = 9


def _finite(value: Any) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise vol.Invalid("expected a finite number")
    return number


def _check_range(config: dict[str, Any]) -> dict[str, Any]:
    low, high = config[CONF_MIN], config[CONF_MAX]
    if low >= high:
        raise vol.Invalid(f"'min' ({low:g}) must be less than 'max' ({high:g})")
    initial = config.get(CONF_INITIAL)
    if initial is not None and not low <= initial <= high:
        raise vol.Invalid(f"'initial' ({initial:g}) must be between min and max "
                          f"({low:g}..{high:g})")
    return config


NUMBER = vol.All(vol.Coerce(float), _finite)

CONFIG_SCHEMA: Final = helpers_schema(vol.All(vol.Schema({
    **BASE_SCHEMA,
    vol.Required(CONF_MIN): NUMBER,
    vol.Required(CONF_MAX): NUMBER,
    vol.Optional(CONF_STEP, default=1.0): vol.All(NUMBER, vol.Range(
        min=MIN_STEP, msg="must be greater than 0")),
    vol.Optional(CONF_INITIAL): NUMBER,
    vol.Optional(CONF_MODE, default="slider"): vol.In(MODES, msg="must be slider or box"),
    vol.Optional(CONF_UNIT): cv.string,
}), _check_range))


class InputNumber(HelperEntity, NumberEntity):
    """A number within min and max, set by people and automations."""

    DOMAIN = DOMAIN
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        **NumberEntity.SERVICES,
        "increment": EntityService(
            "async_increment", description="Raise the value by one step, at most to max."
        ),
        "decrement": EntityService(
            "async_decrement", description="Lower the value by one step, at least to min."
        ),
    }

    def __init__(self, object_id: str, config: Mapping[str, Any]) -> None:
        super().__init__(object_id, config)
        self._apply_number_config()

    def _apply_number_config(self) -> None:
        config = self.config
        self._attr_native_min_value = config[CONF_MIN]
        self._attr_native_max_value = config[CONF_MAX]
        self._attr_native_step = config[CONF_STEP]
        self._attr_mode = config[CONF_MODE]
        self._attr_native_unit_of_measurement = config.get(CONF_UNIT)

    def _parse_state(self, state: str) -> float | None:
        try:
            value = float(state)
        except ValueError:
            return None
        return value if self._within(value) else None

    def _within(self, value: float) -> bool:
        return self._attr_native_min_value <= value <= self._attr_native_max_value

    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        self._attr_native_value = initial_or_restored(
            self.config, last, self._parse_state, self._attr_native_min_value
        )

    def async_update_config(self, config: Mapping[str, Any]) -> None:
        super().async_update_config(config)
        self._apply_number_config()
        value, low = self._attr_native_value, self._attr_native_min_value
        self._attr_native_value = low if value is None else self._bounded(value)

    async def async_set_native_value(self, value: float) -> None:
        """Store the value, without float noise."""
        self._attr_native_value = float(round(value, DECIMALS))

    async def async_increment(self) -> None:
        """One step up, stopping at max."""
        await self._async_step(self._attr_native_step)

    async def async_decrement(self) -> None:
        """One step down, stopping at min."""
        await self._async_step(-self._attr_native_step)

    async def _async_step(self, delta: float) -> None:
        current = self._attr_native_value or 0.0
        await self.async_set_native_value(self._bounded(current + delta))

    def _bounded(self, value: float) -> float:
        return min(max(value, self._attr_native_min_value), self._attr_native_max_value)


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create one entity per configured number."""
    await async_setup_helpers(hub, DOMAIN, config, InputNumber, CONFIG_SCHEMA)
    return True
