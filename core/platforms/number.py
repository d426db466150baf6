"""Numbers: a setpoint the hub can write (a threshold, a frequency reference)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

import voluptuous as vol

from plantpulse.core.const import ATTR_UNIT_OF_MEASUREMENT
from plantpulse.core.entity import Entity, EntityService


class NumberEntity(Entity, ABC):
    """Implement `async_set_native_value`; min, max and step bound what callers may set."""

    DOMAIN = "number"
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "set_value": EntityService(
            "async_set_value",
            {vol.Required("value"): vol.Coerce(float)},
            "Set the number to a value within its min and max.",
        ),
    }
    _attr_native_value: float | None = None
    _attr_native_min_value: float = 0.0
    _attr_native_max_value: float = 100.0
    _attr_native_step: float = 1.0
    _attr_native_unit_of_measurement: str | None = None
    _attr_mode: str = "auto"

    @property
    def native_value(self) -> float | None:
        """The current value."""
        return self._attr_native_value

    @property
    def state(self) -> str | None:
        value = self.native_value
        return None if value is None else str(value)

    @property
    def state_attributes(self) -> Mapping[str, Any]:
        attributes: dict[str, Any] = {
            "min": self._attr_native_min_value,
            "max": self._attr_native_max_value,
            "step": self._attr_native_step,
            "mode": self._attr_mode,
        }
        if self._attr_native_unit_of_measurement:
            attributes[ATTR_UNIT_OF_MEASUREMENT] = self._attr_native_unit_of_measurement
        return attributes

    async def async_set_value(self, value: float) -> None:
        """Check the bounds, then set."""
        low, high = self._attr_native_min_value, self._attr_native_max_value
        if not low <= value <= high:
            raise vol.Invalid(f"{value} is outside {low}..{high} for {self.entity_id}")
        await self.async_set_native_value(value)

    @abstractmethod
    async def async_set_native_value(self, value: float) -> None:
        """Write the value to the device."""
