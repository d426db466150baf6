"""counter: a whole number counted up and down (rejected parts, door openings, restarts).

    counter:
      rejected_parts:
        name: 不良品计数
        initial: 0        # the value at the first start and after reset
        step: 1
        minimum: 0        # optional bounds: counting stops there
        maximum: 9999
        restore: true     # default: keep the count across restarts

State the count (`"12"`); attributes initial, step, minimum and maximum (when set).
Services `counter.increment`, `decrement`, `reset`, `set_value {value}`, `reload`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.entity import Entity, EntityService
from plantpulse.core.states import State
from plantpulse.integrations.input_boolean.collection import (
    BASE_SCHEMA,
    CONF_INITIAL,
    HelperEntity,
    async_setup_helpers,
    helpers_schema,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN: Final = "counter"
CONF_STEP: Final = "step"
CONF_MINIMUM: Final = "minimum"
CONF_MAXIMUM: Final = "maximum"
CONF_RESTORE: Final = "restore"
ATTR_VALUE: Final = "value"


def _check_bounds(config: dict[str, Any]) -> dict[str, Any]:
    low, high = config.get(CONF_MINIMUM), config.get(CONF_MAXIMUM)
    if low is not None and high is not None and low >= high:
        raise vol.Invalid(f"'minimum' ({low}) must be less than 'maximum' ({high})")
    initial = config[CONF_INITIAL]
    if (low is not None and initial < low) or (high is not None and initial > high):
        raise vol.Invalid(f"'initial' ({initial}) must be between minimum and maximum")
    return config


CONFIG_SCHEMA: Final = helpers_schema(vol.All(vol.Schema({
    **BASE_SCHEMA,
    vol.Optional(CONF_INITIAL, default=0): vol.Coerce(int),
    vol.Optional(CONF_STEP, default=1): vol.All(
        vol.Coerce(int), vol.Range(min=1, msg="must be a whole number of 1 or more")
    ),
    vol.Optional(CONF_MINIMUM): vol.Any(None, vol.Coerce(int)),
    vol.Optional(CONF_MAXIMUM): vol.Any(None, vol.Coerce(int)),
    vol.Optional(CONF_RESTORE, default=True): cv.boolean,
}), _check_bounds))


class Counter(HelperEntity, Entity):
    """A whole number with optional bounds."""

    DOMAIN = DOMAIN
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "increment": EntityService("async_increment", description="Count one step up."),
        "decrement": EntityService("async_decrement", description="Count one step down."),
        "reset": EntityService("async_reset", description="Go back to the initial value."),
        "set_value": EntityService(
            "async_set_value", {vol.Required(ATTR_VALUE): vol.Coerce(int)},
            "Set the count to a value within minimum and maximum.",
        ),
    }

    def __init__(self, object_id: str, config: Mapping[str, Any]) -> None:
        super().__init__(object_id, config)
        self._count: int = config[CONF_INITIAL]

    @property
    def state(self) -> str:
        return str(self._count)

    @property
    def state_attributes(self) -> Mapping[str, Any]:
        config = self.config
        attributes = {CONF_INITIAL: config[CONF_INITIAL], CONF_STEP: config[CONF_STEP]}
        for key in (CONF_MINIMUM, CONF_MAXIMUM):
            if config.get(key) is not None:
                attributes[key] = config[key]
        return attributes

    def _bounded(self, value: int) -> int:
        low, high = self.config.get(CONF_MINIMUM), self.config.get(CONF_MAXIMUM)
        if low is not None:
            value = max(value, low)
        if high is not None:
            value = min(value, high)
        return value

    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        self._count = self.config[CONF_INITIAL]
        if self.config[CONF_RESTORE] and last is not None:
            with contextlib.suppress(ValueError):  # "unknown" and the like: keep initial
                self._count = self._bounded(int(last.state))

    def async_update_config(self, config: Mapping[str, Any]) -> None:
        super().async_update_config(config)
        self._count = self._bounded(self._count)

    async def async_increment(self) -> None:
        """One step up, stopping at the maximum."""
        self._count = self._bounded(self._count + self.config[CONF_STEP])

    async def async_decrement(self) -> None:
        """One step down, stopping at the minimum."""
        self._count = self._bounded(self._count - self.config[CONF_STEP])

    async def async_reset(self) -> None:
        """Back to the initial value."""
        self._count = self.config[CONF_INITIAL]

    async def async_set_value(self, value: int) -> None:
        """Set the count; a value beyond the bounds is refused."""
        if self._bounded(value) != value:
            low, high = self.config.get(CONF_MINIMUM), self.config.get(CONF_MAXIMUM)
            raise vol.Invalid(
                f"{value} is outside the bounds of {self.entity_id} "
                f"(minimum {low if low is not None else 'none'}, "
                f"maximum {high if high is not None else 'none'})"
            )
        self._count = value


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create one entity per configured counter."""
    await async_setup_helpers(hub, DOMAIN, config, Counter, CONFIG_SCHEMA)
    return True
