"""Restored state: entities that keep their value across restarts (helpers, automations).

A `RestoreEntity` asks for its last state when it is added; the hub saves the states of all
such entities to `.storage/core.restore_state` every 15 minutes and when it stops, so a
killed hub loses at most the last quarter hour.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from plantpulse.core.dt import parse_datetime
from plantpulse.core.entity import Entity
from plantpulse.core.hub import StopStage
from plantpulse.core.states import State
from plantpulse.core.storage import Store

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

STORAGE_KEY: Final = "core.restore_state"
STORAGE_VERSION: Final = 1
SAVE_INTERVAL: Final = 15 * 60
_DATA_KEY: Final = "core.restore_state"


@dataclass(frozen=True, slots=True)
class StoredState:
    """An entity's state when it was last saved, and its own extra data."""

    state: State
    extra: dict[str, Any] | None


class RestoreStates:
    """Loads the saved states once, and saves those of live RestoreEntities."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._saved: dict[str, StoredState] = {}
        self._entities: dict[str, RestoreEntity] = {}
        self._loaded = asyncio.Lock()
        self._is_loaded = False

    @classmethod
    def of(cls, hub: Hub) -> RestoreStates:
        """The hub's instance, created (and its saving scheduled) on first use."""
        instance = hub.data.get(_DATA_KEY)
        if instance is None:
            instance = hub.data[_DATA_KEY] = cls(hub)
            hub.async_track_interval(instance.async_save, SAVE_INTERVAL, "save restore states")
            hub.async_on_stop(instance.async_save, StopStage.STORAGE)
        return instance

    async def async_get(self, entity_id: str) -> StoredState | None:
        """The saved state of `entity_id`, or None."""
        async with self._loaded:
            if not self._is_loaded:
                for item in await self._store.async_load() or []:
                    state = _state_from_dict(item["state"])
                    self._saved[state.entity_id] = StoredState(state, item.get("extra"))
                self._is_loaded = True
        return self._saved.get(entity_id)

    def async_register(self, entity: RestoreEntity) -> None:
        """Include `entity` in every save from now on."""
        assert entity.entity_id is not None
        self._entities[entity.entity_id] = entity

    def async_unregister(self, entity_id: str) -> None:
        """Stop saving `entity_id` (its last saved state is kept until the next save)."""
        self._entities.pop(entity_id, None)

    async def async_save(self) -> None:
        """Write the current states of every registered entity."""
        items = []
        for entity_id, entity in self._entities.items():
            state = self._hub.states.get(entity_id)
            if state is None:
                continue
            items.append({"state": state.as_dict(), "extra": entity.extra_restore_data})
            self._saved[entity_id] = StoredState(state, entity.extra_restore_data)
        await self._store.async_save(items)


def _state_from_dict(data: dict[str, Any]) -> State:
    return State(
        data["entity_id"], data["state"], data.get("attributes") or {},
        parse_datetime(data["last_changed"]).timestamp(),
        parse_datetime(data["last_updated"]).timestamp(),
    )


class RestoreEntity(Entity):
    """An entity that starts from its last saved state after a restart.

    Call `await self.async_get_last_state()` in `async_added_to_hub`; put what the state
    string cannot hold (a timer's remaining time) in `extra_restore_data`.
    """

    async def async_added_to_hub(self) -> None:
        assert self.entity_id is not None
        restore = RestoreStates.of(self.hub)
        restore.async_register(self)
        self.async_on_remove(lambda: restore.async_unregister(self.entity_id or ""))

    @property
    def extra_restore_data(self) -> dict[str, Any] | None:
        """JSON-able data saved with the state."""
        return None

    async def async_get_last_state(self) -> State | None:
        """The state this entity had when the hub last saved, or None."""
        assert self.entity_id is not None
        stored = await RestoreStates.of(self.hub).async_get(self.entity_id)
        return stored.state if stored else None

    async def async_get_last_extra_data(self) -> dict[str, Any] | None:
        """The `extra_restore_data` saved with the last state, or None."""
        assert self.entity_id is not None
        stored = await RestoreStates.of(self.hub).async_get(self.entity_id)
        return stored.extra if stored else None
