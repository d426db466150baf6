"""Binary sensors: on/off facts such as running, door open, alarm contact."""

from __future__ import annotations

from plantpulse.core.entity import ToggleEntity


class BinarySensorEntity(ToggleEntity):
    """A two-state sensor. Set `_attr_is_on`; None means unknown."""

    DOMAIN = "binary_sensor"
