"""The Entity base class: one value of the plant (a meter's power, a pump's switch)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

import voluptuous as vol

from plantpulse.core.const import (
    ATTR_DEVICE_CLASS,
    ATTR_FRIENDLY_NAME,
    ATTR_ICON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)

if TYPE_CHECKING:
    from plantpulse.core.events import Context
    from plantpulse.core.hub import Hub
    from plantpulse.core.registry import DeviceEntry, EntityEntry

_LOGGER = logging.getLogger(__name__)

# How long a context set by a service call stays the cause of an entity's state writes.
CONTEXT_RECENT_SECONDS = 5.0


class DeviceInfo(TypedDict, total=False):
    """What an entity says about the device it belongs to."""

    identifiers: list[tuple[str, str]]
    name: str
    manufacturer: str
    model: str
    sw_version: str
    serial_number: str
    suggested_area: str
    via_device: tuple[str, str]


@dataclass(frozen=True, kw_only=True)
class EntityDescription:
    """Static facts about an entity, declared as data so one loop can build many entities."""

    key: str
    name: str | None = None
    device_class: str | None = None
    icon: str | None = None


@dataclass(frozen=True, slots=True)
class EntityService:
    """A service of an entity platform: `switch.turn_on` calls `async_turn_on` on targets."""

    method: str
    schema: Mapping[Any, Any] = field(default_factory=dict)
    description: str = ""


class Entity:
    """Base of every entity. Subclasses set `_attr_*` values or override the properties.

    With `_attr_has_entity_name`, the friendly name is the device name followed by the
    entity's own name (`一号循环泵` + `功率`), and the entity id is made from that.
    """

    DOMAIN: ClassVar[str] = ""
    SERVICES: ClassVar[Mapping[str, EntityService]] = {}

    hub: Hub
    entity_id: str | None = None
    platform: str = ""
    entity_description: EntityDescription | None = None
    registry_entry: EntityEntry | None = None
    device_entry: DeviceEntry | None = None

    _attr_unique_id: str | None = None
    _attr_name: str | None = None
    _attr_has_entity_name: bool = False
    _attr_device_class: str | None = None
    _attr_icon: str | None = None
    _attr_available: bool = True
    _attr_device_info: DeviceInfo | None = None
    _attr_extra_state_attributes: Mapping[str, Any] | None = None
    _attr_should_poll: bool = False
    _attr_measured_at: datetime | None = None

    _on_remove: list[Callable[[], None]] | None = None
    # The context of what last changed the entity (a service call), used by the state
    # writes that follow within CONTEXT_RECENT_SECONDS: the state change then says who.
    _context: Context | None = None
    _context_set_at: float = 0.0

    # Facts --------------------------------------------------------------------------------

    @property
    def unique_id(self) -> str | None:
        """A stable id within the integration; entities with one are kept in the registry."""
        return self._attr_unique_id

    @property
    def name(self) -> str | None:
        """The entity's own name (without the device name when `has_entity_name`)."""
        if self._attr_name is not None:
            return self._attr_name
        return self.entity_description.name if self.entity_description else None

    @property
    def has_entity_name(self) -> bool:
        """Whether the name is relative to the device name."""
        return self._attr_has_entity_name

    @property
    def device_class(self) -> str | None:
        """What the value measures: power, energy, gas, water, temperature..."""
        if self._attr_device_class is not None:
            return self._attr_device_class
        return self.entity_description.device_class if self.entity_description else None

    @property
    def icon(self) -> str | None:
        """An `mdi:` icon name for the UI."""
        if self._attr_icon is not None:
            return self._attr_icon
        return self.entity_description.icon if self.entity_description else None

    @property
    def available(self) -> bool:
        """False when the device does not answer or sent garbage."""
        return self._attr_available

    @property
    def device_info(self) -> DeviceInfo | None:
        """The device this entity belongs to."""
        return self._attr_device_info

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Integration-specific attributes."""
        return self._attr_extra_state_attributes

    @property
    def should_poll(self) -> bool:
        """Whether the hub calls `async_update` periodically (most use a coordinator)."""
        return self._attr_should_poll

    @property
    def friendly_name(self) -> str | None:
        """The name shown to people: registry override, else device + entity name."""
        if self.registry_entry is not None and self.registry_entry.name:
            return self.registry_entry.name
        own = self.name
        if self.has_entity_name and self._attr_device_info:
            device_name = (
                self.device_entry.name_by_user or self.device_entry.name
                if self.device_entry else self._attr_device_info.get("name")
            )
            if device_name:
                return f"{device_name} {own}" if own else device_name
        return own

    # What a platform defines --------------------------------------------------------------

    @property
    def state(self) -> str | None:
        """The state string; None means unknown."""
        return None

    @property
    def state_attributes(self) -> Mapping[str, Any] | None:
        """Attributes the platform adds (unit, state class...)."""
        return None

    # Lifecycle ----------------------------------------------------------------------------

    async def async_added_to_hub(self) -> None:
        """Called once the entity has its id; subscribe to data sources here."""

    async def async_will_remove_from_hub(self) -> None:
        """Called before the entity is removed."""

    async def async_update(self) -> None:
        """Fetch a new value (only for `should_poll` entities)."""

    def async_on_remove(self, func: Callable[[], None]) -> None:
        """Run `func` (an unsubscribe) when the entity is removed."""
        if self._on_remove is None:
            self._on_remove = []
        self._on_remove.append(func)

    def async_run_on_remove(self) -> None:
        """Run the callbacks registered with `async_on_remove`."""
        for func in self._on_remove or ():
            func()
        self._on_remove = None

    def async_set_context(self, context: Context) -> None:
        """Make `context` the cause of the state writes of the next few seconds."""
        self._context = context
        self._context_set_at = time.monotonic()

    def async_write_state(
        self, measured_at: datetime | None = None, context: Context | None = None
    ) -> None:
        """Write the entity's current state and attributes to the state machine.

        `context` says what caused the change; by default the one given to
        `async_set_context` in the last few seconds (a service call), else a new one.
        """
        if self.entity_id is None:
            raise RuntimeError(f"{type(self).__name__} was not added to the hub")
        attributes: dict[str, Any] = {}
        available = self.available
        if available:
            state = self.state
            state = STATE_UNKNOWN if state is None else state
            if extra := self.extra_state_attributes:
                attributes.update(extra)
        else:
            state = STATE_UNAVAILABLE
        if platform_attributes := self.state_attributes:
            attributes.update(platform_attributes)
        if device_class := self.device_class:
            attributes[ATTR_DEVICE_CLASS] = device_class
        if icon := self.icon:
            attributes[ATTR_ICON] = icon
        if friendly_name := self.friendly_name:
            attributes[ATTR_FRIENDLY_NAME] = friendly_name
        if context is None and self._context is not None and (
            time.monotonic() - self._context_set_at < CONTEXT_RECENT_SECONDS
        ):
            context = self._context
        self.hub.states.async_set(
            self.entity_id, state, attributes, context=context,
            measured_at=measured_at or (self._attr_measured_at if available else None),
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.entity_id or self.name}>"


class ToggleEntity(Entity):
    """An entity that is on or off. Set `_attr_is_on`; None means unknown."""

    _attr_is_on: bool | None = None

    @property
    def is_on(self) -> bool | None:
        """Whether it is on."""
        return self._attr_is_on

    @property
    def state(self) -> str | None:
        is_on = self.is_on
        return None if is_on is None else (STATE_ON if is_on else STATE_OFF)


def service_schema(extra: Mapping[Any, Any]) -> vol.Schema:
    """The schema of an entity service: targets plus the service's own fields."""
    from plantpulse.core.config import validation as cv

    return vol.Schema({
        vol.Optional("entity_id"): cv.entity_ids_or_all,
        vol.Optional("area_id"): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("device_id"): vol.All(cv.ensure_list, [cv.string]),
        **extra,
    })
