"""Polling coordinators: one poller per physical device feeds many entities, with backoff."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Generic, TypeVar

from plantpulse.core.entity import Entity

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_DataT = TypeVar("_DataT")

MAX_BACKOFF = timedelta(minutes=5)


class UpdateFailed(Exception):
    """Raised by an update method when the device did not answer or answered garbage."""


class Coordinator(Generic[_DataT]):
    """Calls `update_method` every `update_interval` and tells its entities.

    While the device fails, entities are unavailable and the interval doubles up to
    `max_backoff`; the first good answer restores the interval and the entities.
    """

    def __init__(
        self,
        hub: Hub,
        name: str,
        update_method: Callable[[], Awaitable[_DataT]],
        update_interval: timedelta,
        max_backoff: timedelta = MAX_BACKOFF,
    ) -> None:
        self.hub = hub
        self.name = name
        self.update_interval = update_interval
        self.max_backoff = max(max_backoff, update_interval)
        self._update_method = update_method
        self.data: _DataT | None = None
        self.last_update_success = False
        self.last_error: str | None = None
        self.failures = 0
        self._listeners: list[Callable[[], None]] = []
        self._cancel_timer: Callable[[], None] | None = None
        self._stopped = False

    @property
    def current_interval(self) -> timedelta:
        """The interval to the next poll, stretched by backoff while failing."""
        if self.failures == 0:
            return self.update_interval
        return min(self.update_interval * (2 ** min(self.failures, 16)), self.max_backoff)

    def async_add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every poll; returns a remover."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    async def async_start(self) -> None:
        """Poll once now, then keep polling until the hub stops."""
        self._stopped = False
        self.hub.async_on_stop(self.async_stop)
        await self.async_refresh()

    def async_stop(self) -> None:
        """Stop polling."""
        self._stopped = True
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None

    async def async_refresh(self) -> None:
        """Poll now and schedule the next poll."""
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        try:
            self.data = await self._update_method()
        except UpdateFailed as err:
            self._record_failure(str(err))
        except Exception as err:
            _LOGGER.exception("Unexpected error polling %s", self.name)
            self._record_failure(f"{type(err).__name__}: {err}")
        else:
            if not self.last_update_success and self.failures:
                _LOGGER.info("%s answers again", self.name)
            self.last_update_success = True
            self.last_error = None
            self.failures = 0
        try:
            for listener in list(self._listeners):
                try:
                    listener()
                except Exception:
                    _LOGGER.exception("Error updating an entity of %s", self.name)
        finally:
            if not self._stopped:
                self._cancel_timer = self.hub.async_call_later(
                    self.current_interval, self.async_refresh
                )

    def _record_failure(self, message: str) -> None:
        if self.last_update_success or self.failures == 0:
            _LOGGER.warning("%s failed: %s", self.name, message)
        self.last_update_success = False
        self.last_error = message
        self.failures += 1


class CoordinatorEntity(Entity, Generic[_DataT]):
    """An entity that takes its value from a coordinator's latest data."""

    def __init__(self, coordinator: Coordinator[_DataT]) -> None:
        self.coordinator = coordinator

    @property
    def available(self) -> bool:
        return self.coordinator.last_update_success and self._attr_available

    async def async_added_to_hub(self) -> None:
        self.async_on_remove(self.coordinator.async_add_listener(self._handle_update))

    def _handle_update(self) -> None:
        self.async_write_state()
