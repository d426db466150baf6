"""Switches: something the hub can turn on and off (a contactor, a relay output)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from plantpulse.core.entity import EntityService, ToggleEntity


class SwitchEntity(ToggleEntity, ABC):
    """Implement `async_turn_on` and `async_turn_off`; `toggle` follows from `is_on`."""

    DOMAIN = "switch"
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "turn_on": EntityService("async_turn_on", description="Turn the switch on."),
        "turn_off": EntityService("async_turn_off", description="Turn the switch off."),
        "toggle": EntityService("async_toggle", description="Turn the switch on if off, else off."),
    }

    @abstractmethod
    async def async_turn_on(self) -> None:
        """Turn on."""

    @abstractmethod
    async def async_turn_off(self) -> None:
        """Turn off."""

    async def async_toggle(self) -> None:
        """Turn on if off, off if on."""
        if self.is_on:
            await self.async_turn_off()
        else:
            await self.async_turn_on()
