"""Events, their contexts, and the event bus that delivers them to listeners."""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime
from functools import partial
from inspect import iscoroutine
from typing import TYPE_CHECKING, Any

from plantpulse.core.const import MATCH_ALL, EventOrigin
from plantpulse.core.dt import from_timestamp

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

_CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid(timestamp: float | None = None) -> str:
    """Return a ULID: 26 characters, sortable by creation time, 80 random bits."""
    millis = int((time.time() if timestamp is None else timestamp) * 1000)
    value = (millis << 80) | random.getrandbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD32[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class Context:
    """Links a cause to its effects: a user's call, the state change it made, the automation run.

    The id is created on first use, so events nobody inspects stay cheap.
    """

    __slots__ = ("_id", "parent_id", "user_id")

    def __init__(
        self, user_id: str | None = None, parent_id: str | None = None, id: str | None = None
    ) -> None:
        self._id = id
        self.user_id = user_id
        self.parent_id = parent_id

    @property
    def id(self) -> str:
        """The context's ULID."""
        if self._id is None:
            self._id = new_ulid()
        return self._id

    def as_dict(self) -> dict[str, str | None]:
        """Serialise as Home Assistant does: id, parent_id, user_id."""
        return {"id": self.id, "parent_id": self.parent_id, "user_id": self.user_id}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"<Context {self.id} user={self.user_id} parent={self.parent_id}>"


class Event:
    """Something that happened: a type, its data, where it came from and why."""

    __slots__ = ("context", "data", "event_type", "origin", "time_fired_timestamp")

    def __init__(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        origin: EventOrigin = EventOrigin.LOCAL,
        time_fired_timestamp: float | None = None,
        context: Context | None = None,
    ) -> None:
        self.event_type = event_type
        self.data = data if data is not None else {}
        self.origin = origin
        self.time_fired_timestamp = (
            time.time() if time_fired_timestamp is None else time_fired_timestamp
        )
        self.context = context if context is not None else Context()

    @property
    def time_fired(self) -> datetime:
        """When the event was fired, as an aware UTC datetime."""
        return from_timestamp(self.time_fired_timestamp)

    def as_dict(self) -> dict[str, Any]:
        """Serialise in Home Assistant's WebSocket shape."""
        return {
            "event_type": self.event_type,
            "data": self.data,
            "origin": str(self.origin),
            "time_fired": self.time_fired.isoformat(),
            "context": self.context.as_dict(),
        }

    def __repr__(self) -> str:
        return f"<Event {self.event_type}[{self.origin[0]}]: {self.data}>"


EventListener = Callable[[Event], Coroutine[Any, Any, None] | None]
EventFilter = Callable[[Event], bool]


class _Listener:
    __slots__ = ("event_filter", "func", "once")

    def __init__(self, func: EventListener, event_filter: EventFilter | None, once: bool) -> None:
        self.func = func
        self.event_filter = event_filter
        self.once = once


class EventBus:
    """Delivers fired events to listeners, in the order they were fired.

    A listener is a plain function (called at once, must not block) or a coroutine function
    (run as a task of the hub). An event fired while another is being delivered (a listener
    firing an event) is queued and delivered after the current one, so every listener sees
    events in firing order and deep listener chains do not grow the stack.
    """

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._time = hub.clock.time
        self._listeners: dict[str, tuple[_Listener, ...]] = {}
        self._pending: deque[Event] = deque()
        self._dispatching = False

    def async_listen(
        self,
        event_type: str,
        listener: EventListener,
        event_filter: EventFilter | None = None,
    ) -> Callable[[], None]:
        """Call `listener` for every event of `event_type` (MATCH_ALL for all); returns remove."""
        return self._add(event_type, _Listener(listener, event_filter, once=False))

    def async_listen_once(
        self, event_type: str, listener: EventListener
    ) -> Callable[[], None]:
        """Call `listener` for the next event of `event_type` only; returns remove."""
        return self._add(event_type, _Listener(listener, None, once=True))

    def _add(self, event_type: str, entry: _Listener) -> Callable[[], None]:
        self._listeners[event_type] = (*self._listeners.get(event_type, ()), entry)
        return partial(self._remove_entry, event_type, entry)

    def async_listeners(self) -> dict[str, int]:
        """Return the number of listeners per event type."""
        return {key: len(value) for key, value in self._listeners.items()}

    def async_fire(
        self,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        origin: EventOrigin = EventOrigin.LOCAL,
        context: Context | None = None,
        time_fired_timestamp: float | None = None,
    ) -> None:
        """Fire an event; listeners run now, or after the event being delivered."""
        if event_type not in self._listeners and MATCH_ALL not in self._listeners:
            return
        event = Event(
            event_type, data, origin,
            self._time() if time_fired_timestamp is None else time_fired_timestamp, context,
        )
        if self._dispatching:
            self._pending.append(event)
            return
        self._dispatching = True
        try:
            self._deliver(event)
            pending = self._pending
            while pending:
                self._deliver(pending.popleft())
        finally:
            self._dispatching = False

    def _deliver(self, event: Event) -> None:
        listeners = self._listeners
        for key in (event.event_type, MATCH_ALL):
            for entry in listeners.get(key, ()):
                try:
                    if entry.event_filter is not None and not entry.event_filter(event):
                        continue
                    if entry.once:
                        self._remove_entry(key, entry)
                    result = entry.func(event)
                    if result is not None and iscoroutine(result):
                        self._hub.async_create_task(result, f"listener for {event.event_type}")
                except Exception:
                    _LOGGER.exception(
                        "Error in listener %r for event %s", entry.func, event.event_type
                    )

    def _remove_entry(self, event_type: str, entry: _Listener) -> None:
        remaining = tuple(item for item in self._listeners.get(event_type, ()) if item is not entry)
        if remaining:
            self._listeners[event_type] = remaining
        else:
            self._listeners.pop(event_type, None)
