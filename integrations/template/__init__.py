"""template: sensors and binary sensors computed from other entities with Jinja2 templates.

    template:
      - sensor:
          - name: 总进线功率
            unique_id: total_power          # freezes the entity id; also lets people rename it
            state: "{{ states('sensor.line_1') | float(0) + states('sensor.line_2') | float(0) }}"
            unit_of_measurement: kW
            device_class: power
            state_class: measurement
            availability: "{{ has_value('sensor.line_1') and has_value('sensor.line_2') }}"
            attributes:
              lines: "{{ 2 }}"
        binary_sensor:
          - name: Night base load high
            state: "{{ states('sensor.total_power') | float(0) > 40 and now().hour >= 17 }}"
            delay_on: "00:05:00"            # on only after 5 minutes true
            delay_off: 60
            device_class: problem

Entity ids come from the names (Chinese names in pinyin) unless a `unique_id` froze them.
A template re-renders only when an entity it read changes (see tracker.py); `icon`,
`availability` and each attribute are templates too. A failing template makes its entity
unavailable and is logged once. `template.reload` re-reads the YAML without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.entity import Entity
from plantpulse.core.platforms.sensor import StateClass
from plantpulse.core.services import ServiceCall
from plantpulse.integrations.input_boolean.collection import async_read_block
from plantpulse.integrations.template.binary_sensor import TemplateBinarySensor
from plantpulse.integrations.template.const import (
    CONF_ATTRIBUTES,
    CONF_AVAILABILITY,
    CONF_BINARY_SENSORS,
    CONF_DELAY_OFF,
    CONF_DELAY_ON,
    CONF_DEVICE_CLASS,
    CONF_ICON,
    CONF_NAME,
    CONF_SENSORS,
    CONF_STATE,
    CONF_STATE_CLASS,
    CONF_TRIGGER,
    CONF_UNIQUE_ID,
    CONF_UNIT_OF_MEASUREMENT,
    DEFAULT_BINARY_SENSOR_NAME,
    DEFAULT_SENSOR_NAME,
    DOMAIN,
)
from plantpulse.integrations.template.sensor import TemplateSensor

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


def _non_negative_period(value: Any) -> Any:
    period = cv.time_period(value)
    if period.total_seconds() < 0:
        raise vol.Invalid("expected a delay of 0 or more")
    return period


def _no_triggers(_value: Any) -> Any:
    raise vol.Invalid(
        "trigger-based template entities are not supported; remove 'trigger' and let the "
        "entities re-render from the entities their templates read"
    )


_COMMON: Final = {
    vol.Optional(CONF_UNIQUE_ID): cv.string,
    vol.Required(CONF_STATE): cv.template,
    vol.Optional(CONF_ICON): cv.template,
    vol.Optional(CONF_AVAILABILITY): cv.template,
    vol.Optional(CONF_ATTRIBUTES, default={}): {cv.string: cv.template},
    vol.Optional(CONF_DEVICE_CLASS): vol.All(cv.string, vol.Lower),
}

SENSOR_SCHEMA: Final = vol.Schema({
    **_COMMON,
    vol.Optional(CONF_NAME, default=DEFAULT_SENSOR_NAME): cv.string,
    vol.Optional(CONF_UNIT_OF_MEASUREMENT): cv.string,
    vol.Optional(CONF_STATE_CLASS): vol.In(
        [item.value for item in StateClass],
        msg="must be measurement, total or total_increasing",
    ),
})

BINARY_SENSOR_SCHEMA: Final = vol.Schema({
    **_COMMON,
    vol.Optional(CONF_NAME, default=DEFAULT_BINARY_SENSOR_NAME): cv.string,
    vol.Optional(CONF_DELAY_ON): _non_negative_period,
    vol.Optional(CONF_DELAY_OFF): _non_negative_period,
})

BLOCK_SCHEMA: Final = vol.Schema({
    vol.Optional(CONF_UNIQUE_ID): cv.string,
    vol.Optional(CONF_SENSORS, default=[]): vol.All(cv.ensure_list, [SENSOR_SCHEMA]),
    vol.Optional(CONF_BINARY_SENSORS, default=[]): vol.All(
        cv.ensure_list, [BINARY_SENSOR_SCHEMA]
    ),
    vol.Optional(CONF_TRIGGER): _no_triggers,
})

CONFIG_SCHEMA: Final = vol.All(cv.ensure_list, [BLOCK_SCHEMA])


def build_entities(blocks: list[Mapping[str, Any]]) -> list[Entity]:
    """One entity per configured sensor and binary sensor, in the order written."""
    entities: list[Entity] = []
    for block in blocks:
        prefix = block.get(CONF_UNIQUE_ID)
        for kind, factory in ((CONF_SENSORS, TemplateSensor),
                              (CONF_BINARY_SENSORS, TemplateBinarySensor)):
            for config in block[kind]:
                unique_id = config.get(CONF_UNIQUE_ID)
                if prefix and unique_id:
                    unique_id = f"{prefix}-{unique_id}"
                entities.append(factory(config, unique_id))
    return entities


async def async_setup(hub: Hub, config: list[Mapping[str, Any]]) -> bool:
    """Add the template entities and the reload service."""
    await hub.entities.async_add(DOMAIN, build_entities(config))

    async def reload(call: ServiceCall) -> None:
        blocks = await async_read_block(hub, DOMAIN, CONFIG_SCHEMA) or []
        for entity in hub.entities.all(DOMAIN):
            await hub.entities.async_remove(entity.entity_id or "")
        added = await hub.entities.async_add(DOMAIN, build_entities(blocks))
        _LOGGER.info("Reloaded template entities: %d", len(added))

    hub.services.async_register(
        DOMAIN, "reload", reload, vol.Schema({}),
        description="Re-read the template entities from the YAML configuration.",
    )
    return True
