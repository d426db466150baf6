"""Buttons: a one-shot action (reset a counter, acknowledge a panel); state is the last press."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import ClassVar

from plantpulse.core import dt
from plantpulse.core.entity import Entity, EntityService


class ButtonEntity(Entity, ABC):
    """Implement `async_press`; the state records when it was last pressed."""

    DOMAIN = "button"
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "press": EntityService("async_handle_press", description="Press the button."),
    }
    _last_pressed: str | None = None

    @property
    def state(self) -> str | None:
        return self._last_pressed

    async def async_handle_press(self) -> None:
        """Record the press and run the action."""
        self._last_pressed = dt.utcnow().isoformat()
        self.async_write_state()
        await self.async_press()

    @abstractmethod
    async def async_press(self) -> None:
        """The action."""
