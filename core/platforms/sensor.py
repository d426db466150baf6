"""Sensors: a measured value with a unit, and the state class that drives statistics."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from plantpulse.core.const import ATTR_STATE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from plantpulse.core.entity import Entity, EntityDescription


class StateClass(StrEnum):
    """How statistics treat a sensor's values."""

    MEASUREMENT = "measurement"
    TOTAL = "total"
    TOTAL_INCREASING = "total_increasing"


class SensorDeviceClass(StrEnum):
    """What a sensor measures."""

    POWER = "power"
    ENERGY = "energy"
    CURRENT = "current"
    VOLTAGE = "voltage"
    POWER_FACTOR = "power_factor"
    FREQUENCY = "frequency"
    GAS = "gas"
    WATER = "water"
    VOLUME = "volume"
    VOLUME_FLOW_RATE = "volume_flow_rate"
    TEMPERATURE = "temperature"
    PRESSURE = "pressure"
    SOUND_PRESSURE = "sound_pressure"
    VIBRATION_VELOCITY = "vibration_velocity"
    WEIGHT = "weight"
    MONETARY = "monetary"
    TIMESTAMP = "timestamp"
    DURATION = "duration"



@dataclass(frozen=True, kw_only=True)
class SensorEntityDescription(EntityDescription):
    """A sensor declared as data."""

    state_class: StateClass | None = None
    native_unit_of_measurement: str | None = None
    suggested_display_precision: int | None = None


class SensorEntity(Entity):
    """A measured value. Set `_attr_native_value`; numbers are stored as given (or rounded to
    `_attr_suggested_display_precision` places), timestamps as ISO 8601."""

    DOMAIN = "sensor"

    entity_description: SensorEntityDescription | None = None
    _attr_native_value: Any = None
    _attr_native_unit_of_measurement: str | None = None
    _attr_state_class: StateClass | None = None
    _attr_suggested_display_precision: int | None = None

    @property
    def native_value(self) -> Any:
        """The value in the native unit."""
        return self._attr_native_value

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The unit of `native_value`."""
        if self._attr_native_unit_of_measurement is not None:
            return self._attr_native_unit_of_measurement
        description = self.entity_description
        return description.native_unit_of_measurement if description else None

    @property
    def state_class(self) -> StateClass | None:
        """measurement, total or total_increasing; None for no statistics."""
        if self._attr_state_class is not None:
            return self._attr_state_class
        return self.entity_description.state_class if self.entity_description else None

    @property
    def suggested_display_precision(self) -> int | None:
        """Decimal places worth keeping."""
        if self._attr_suggested_display_precision is not None:
            return self._attr_suggested_display_precision
        description = self.entity_description
        return description.suggested_display_precision if description else None

    @property
    def state(self) -> str | None:
        value = self.native_value
        if value is None:
            return None
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, float):
            if not math.isfinite(value):
                return None
            precision = self.suggested_display_precision
            if precision is not None:
                value = round(value, precision)
                return f"{value:.{precision}f}"
        return str(value)

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        attributes: dict[str, Any] = {}
        if state_class := self.state_class:
            attributes[ATTR_STATE_CLASS] = str(state_class)
        if unit := self.native_unit_of_measurement:
            attributes[ATTR_UNIT_OF_MEASUREMENT] = unit
        return attributes
