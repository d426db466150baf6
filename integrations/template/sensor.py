"""Template sensors: a value computed from other entities (`{{ a + b }}`), with unit and class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plantpulse.core.platforms.sensor import SensorEntity, StateClass
from plantpulse.integrations.template.const import CONF_STATE_CLASS, CONF_UNIT_OF_MEASUREMENT
from plantpulse.integrations.template.entity import TemplateEntity


class TemplateSensor(TemplateEntity, SensorEntity):
    """The rendered value is the state (`None` is unknown); numbers drive statistics as any
    sensor's do when a state_class is set."""

    def __init__(self, config: Mapping[str, Any], unique_id: str | None) -> None:
        super().__init__(config, unique_id)
        self._attr_native_unit_of_measurement = config.get(CONF_UNIT_OF_MEASUREMENT)
        state_class = config.get(CONF_STATE_CLASS)
        self._attr_state_class = None if state_class is None else StateClass(state_class)

    def _set_state(self, value: Any) -> None:
        self._attr_native_value = value
