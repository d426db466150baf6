"""MQTT binary sensors: `payload_on` / `payload_off` on a topic, with an optional off delay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plantpulse.core.platforms.binary_sensor import BinarySensorEntity
from plantpulse.integrations.mqtt.entity import MqttEntity
from plantpulse.integrations.mqtt.payload import PayloadError


class MqttBinarySensor(MqttEntity, BinarySensorEntity):
    """A binary sensor fed by an MQTT topic."""

    DEFAULT_NAME = "MQTT Binary Sensor"
    _cancel_off: Callable[[], None] | None = None

    def _convert(self, value: Any) -> Any:
        text = str(value)
        if text == self._config["payload_on"]:
            return True
        if text == self._config["payload_off"]:
            return False
        raise PayloadError(f"{text[:40]!r} is neither payload_on {self._config['payload_on']!r}"
                           f" nor payload_off {self._config['payload_off']!r}")

    def _swap_value(self, value: Any) -> Any:
        previous, self._attr_is_on = self._attr_is_on, value
        return previous

    def _write_value(self, value: Any, measured_at: Any) -> None:
        self._stop_off_delay()
        super()._write_value(value, measured_at)
        if value and (delay := self._config.get("off_delay")):
            self._cancel_off = self.hub.async_call_later(delay, self._turn_off)

    def _stop_off_delay(self) -> None:
        if self._cancel_off is not None:
            self._cancel_off()
            self._cancel_off = None

    def _turn_off(self) -> None:
        self._cancel_off = None
        self._attr_is_on = False
        self._attr_measured_at = None
        self.async_write_state()

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        self.async_on_remove(self._stop_off_delay)
