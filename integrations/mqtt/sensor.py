"""MQTT sensors: a value from a topic, numeric when it has a unit or a state class."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from plantpulse.core.const import MAX_STATE_LENGTH
from plantpulse.core.platforms.sensor import SensorEntity, StateClass
from plantpulse.integrations.mqtt.client import MqttConnection
from plantpulse.integrations.mqtt.entity import MqttEntity
from plantpulse.integrations.mqtt.payload import PayloadError, to_datetime

# Device classes whose values are not numbers.
_NON_NUMERIC_CLASSES: Final = frozenset({"timestamp", "date", "enum"})
# The payload Home Assistant reads as "no value" (the state becomes unknown).
PAYLOAD_NONE: Final = "None"


def to_number(value: Any) -> int | float:
    """A finite number from a payload value; raises PayloadError for anything else."""
    if isinstance(value, bool):
        raise PayloadError(f"{value!r} is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise PayloadError(f"{text[:40]!r} is not a number") from None
    else:
        raise PayloadError(f"a {type(value).__name__} is not a number")
    if not math.isfinite(number):
        raise PayloadError(f"{number!r} is not a finite number")
    return number


class MqttSensor(MqttEntity, SensorEntity):
    """A sensor fed by an MQTT topic."""

    DEFAULT_NAME = "MQTT Sensor"

    def __init__(self, connection: MqttConnection, config: Mapping[str, Any]) -> None:
        super().__init__(connection, config)
        self._attr_native_unit_of_measurement = config.get("unit_of_measurement")
        state_class = config.get("state_class")
        self._attr_state_class = StateClass(state_class) if state_class else None
        self._attr_suggested_display_precision = config.get("suggested_display_precision")
        device_class = self._attr_device_class
        self.numeric = bool(
            state_class or self._attr_native_unit_of_measurement
            or (device_class and device_class not in _NON_NUMERIC_CLASSES)
        )

    def _convert(self, value: Any) -> Any:
        if value is None or value == PAYLOAD_NONE:
            return None
        if self.numeric:
            return to_number(value)
        if self._attr_device_class == "timestamp":
            return to_datetime(value, self.hub.site.tz)
        text = str(value)
        if len(text) > MAX_STATE_LENGTH:
            raise PayloadError(f"the value is {len(text)} characters; a state holds at most "
                               f"{MAX_STATE_LENGTH} (use json_path or value_template to pick "
                               "a part, or json_attributes_topic for the rest)")
        return text

    def _swap_value(self, value: Any) -> Any:
        previous, self._attr_native_value = self._attr_native_value, value
        return previous
