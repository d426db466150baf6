"""input_boolean: an on/off flag people set (maintenance mode, night shift running).

    input_boolean:
      maintenance_mode:
        name: 检修模式
        icon: mdi:wrench
        initial: false    # optional: the state at every start; without it the last state returns

Services `input_boolean.turn_on`, `turn_off`, `toggle` and `reload`; state `on`/`off`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.const import STATE_OFF, STATE_ON
from plantpulse.core.entity import EntityService, ToggleEntity
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

DOMAIN: Final = "input_boolean"

CONFIG_SCHEMA: Final = helpers_schema(vol.Schema({
    **BASE_SCHEMA,
    vol.Optional(CONF_INITIAL): cv.boolean,
}))


def _parse_state(state: str) -> bool | None:
    return {STATE_ON: True, STATE_OFF: False}.get(state)


class InputBoolean(HelperEntity, ToggleEntity):
    """An on/off flag set by people and automations."""

    DOMAIN = DOMAIN
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "turn_on": EntityService("async_turn_on", description="Turn the flag on."),
        "turn_off": EntityService("async_turn_off", description="Turn the flag off."),
        "toggle": EntityService("async_toggle", description="Turn the flag on if off, else off."),
    }

    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        self._attr_is_on = initial_or_restored(self.config, last, _parse_state, False)

    async def async_turn_on(self) -> None:
        """Turn on."""
        self._attr_is_on = True

    async def async_turn_off(self) -> None:
        """Turn off."""
        self._attr_is_on = False

    async def async_toggle(self) -> None:
        """Turn on if off, off if on."""
        self._attr_is_on = not self._attr_is_on


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create one entity per configured flag."""
    await async_setup_helpers(hub, DOMAIN, config, InputBoolean, CONFIG_SCHEMA)
    return True
