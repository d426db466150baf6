"""Binary sensors: on/off facts such as running, door open, alarm contact."""

from __future__ import annotations

from plantpulse.core.const import STATE_OFF, STATE_ON
from plantpulse.core.entity import Entity


class BinarySensorEntity(Entity):
    """A two-state sensor. Set `_attr_is_on`; None means unknown."""

    DOMAIN = "binary_sensor"
    _attr_is_on: bool | None = None

    @property
    def is_on(self) -> bool | None:
        """Whether the sensor is on."""
        return self._attr_is_on

    @property
    def state(self) -> str | None:
        is_on = self.is_on
        return None if is_on is None else (STATE_ON if is_on else STATE_OFF)
