"""Helpers to follow state changes of particular entities, indexed by entity id."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from inspect import iscoroutine
from typing import TYPE_CHECKING, Any

from plantpulse.core.const import EVENT_STATE_CHANGED
from plantpulse.core.events import Event

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_DATA_KEY = "core.state_change_index"

StateChangeAction = Callable[[Event], Any]


class _StateChangeIndex:
    """One bus listener for `state_changed` that looks up followers by entity id."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._followers: dict[str, list[StateChangeAction]] = {}
        self._remove_listener: Callable[[], None] | None = None

    def add(self, entity_ids: Iterable[str], action: StateChangeAction) -> Callable[[], None]:
        ids = list(dict.fromkeys(entity_id.lower() for entity_id in entity_ids))
        for entity_id in ids:
            self._followers.setdefault(entity_id, []).append(action)
        if self._remove_listener is None and self._followers:
            self._remove_listener = self._hub.bus.async_listen(EVENT_STATE_CHANGED, self._dispatch)

        def remove() -> None:
            for entity_id in ids:
                followers = self._followers.get(entity_id)
                if followers and action in followers:
                    followers.remove(action)
                    if not followers:
                        del self._followers[entity_id]
            if not self._followers and self._remove_listener is not None:
                self._remove_listener()
                self._remove_listener = None

        return remove

    def _dispatch(self, event: Event) -> None:
        followers = self._followers.get(event.data["entity_id"])
        if not followers:
            return
        for action in tuple(followers):
            try:
                result = action(event)
                if result is not None and iscoroutine(result):
                    self._hub.async_create_task(result, "state change action")
            except Exception:
                _LOGGER.exception("Error in state change action %r", action)


def async_track_state_change_event(
    hub: Hub, entity_ids: str | Iterable[str], action: StateChangeAction
) -> Callable[[], None]:
    """Call `action(event)` on each `state_changed` of the given entities; returns a remover."""
    index = hub.data.get(_DATA_KEY)
    if index is None:
        index = hub.data[_DATA_KEY] = _StateChangeIndex(hub)
    return index.add([entity_ids] if isinstance(entity_ids, str) else entity_ids, action)
