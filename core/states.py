"""Immutable entity states and the state machine that holds the latest one per entity."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, NoReturn

from plantpulse.core.const import (
    EVENT_STATE_BACKFILLED,
    EVENT_STATE_CHANGED,
    MAX_ATTRIBUTES_BYTES,
    MAX_STATE_LENGTH,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from plantpulse.core.dt import from_timestamp
from plantpulse.core.events import Context, EventBus
from plantpulse.core.exceptions import InvalidEntityIdError, InvalidStateError
from plantpulse.core.jsonenc import json_dumps

_ENTITY_ID_RE = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")


def valid_entity_id(entity_id: str) -> bool:
    """Tell whether `entity_id` has the form `<domain>.<object_id>` in lowercase ASCII."""
    return _ENTITY_ID_RE.match(entity_id) is not None


def _check_attributes(entity_id: str, attributes: Mapping[str, Any]) -> None:
    """Refuse attributes the API and recorder could not send: not JSON, NaN, too large."""
    try:
        size = len(json_dumps(attributes).encode())
    except (TypeError, ValueError) as err:
        raise InvalidStateError(
            f"Attributes of {entity_id} cannot be stored: {err}. Use plain numbers, strings, "
            "lists and mappings (convert numpy values with float() or int(); no NaN)"
        ) from None
    if size > MAX_ATTRIBUTES_BYTES:
        raise InvalidStateError(
            f"Attributes of {entity_id} take {size} bytes as JSON; the limit is "
            f"{MAX_ATTRIBUTES_BYTES}. Keep large data out of attributes."
        )


class ReadOnlyDict(dict[str, Any]):
    """A dict that refuses changes: the attributes of a State are shared, never edited."""

    __slots__ = ()

    def _readonly(self, *_args: Any, **_kwargs: Any) -> NoReturn:
        raise TypeError("State attributes are read-only; pass new attributes to async_set")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly
    __ior__ = _readonly  # type: ignore[assignment]


_EMPTY_ATTRIBUTES = ReadOnlyDict()
_PLACEHOLDERS = frozenset({STATE_UNKNOWN, STATE_UNAVAILABLE})


def _iso(timestamp: float) -> str:
    return from_timestamp(timestamp).isoformat()


class State:
    """What an entity is at one moment. Never changed after creation.

    `last_changed` moves only when the state string changes, `last_updated` when the state
    or an attribute does. `measured_timestamp` is set when the source reported the time the
    value was measured (a gateway's buffered reading, a meter's frozen reading); the recorder
    files the state under that time.
    """

    __slots__ = (
        "_as_dict",
        "attributes",
        "context",
        "entity_id",
        "last_changed_timestamp",
        "last_updated_timestamp",
        "measured_timestamp",
        "state",
    )

    def __init__(
        self,
        entity_id: str,
        state: str,
        attributes: Mapping[str, Any] | None = None,
        last_changed_timestamp: float | None = None,
        last_updated_timestamp: float | None = None,
        context: Context | None = None,
        measured_timestamp: float | None = None,
    ) -> None:
        self.entity_id = entity_id
        self.state = state
        if attributes is None:
            self.attributes = _EMPTY_ATTRIBUTES
        elif type(attributes) is ReadOnlyDict:
            self.attributes = attributes
        else:
            self.attributes = ReadOnlyDict(attributes)
        self.last_updated_timestamp = (
            time.time() if last_updated_timestamp is None else last_updated_timestamp
        )
        self.last_changed_timestamp = (
            self.last_updated_timestamp if last_changed_timestamp is None
            else last_changed_timestamp
        )
        self.context = context if context is not None else Context()
        self.measured_timestamp = measured_timestamp
        self._as_dict: dict[str, Any] | None = None

    @property
    def domain(self) -> str:
        """The entity's domain, e.g. `sensor`."""
        return self.entity_id.partition(".")[0]

    @property
    def object_id(self) -> str:
        """The entity id without its domain."""
        return self.entity_id.partition(".")[2]

    @property
    def name(self) -> str:
        """The friendly name, or the object id when there is none."""
        return str(self.attributes.get("friendly_name") or self.object_id.replace("_", " "))

    @property
    def last_changed(self) -> datetime:
        """When the state string last changed."""
        return from_timestamp(self.last_changed_timestamp)

    @property
    def last_updated(self) -> datetime:
        """When the state or its attributes last changed."""
        return from_timestamp(self.last_updated_timestamp)

    @property
    def timestamp(self) -> float:
        """The time the value belongs to: when measured if known, else when received."""
        return self.last_updated_timestamp if self.measured_timestamp is None else (
            self.measured_timestamp
        )

    def as_dict(self) -> dict[str, Any]:
        """Serialise in Home Assistant's REST shape; cached because states never change."""
        if self._as_dict is None:
            data = {
                "entity_id": self.entity_id,
                "state": self.state,
                "attributes": self.attributes,
                "last_changed": _iso(self.last_changed_timestamp),
                "last_updated": _iso(self.last_updated_timestamp),
                "context": self.context.as_dict(),
            }
            if self.measured_timestamp is not None:
                data["measured_at"] = _iso(self.measured_timestamp)
            self._as_dict = data
        return self._as_dict

    def as_compressed(self) -> dict[str, Any]:
        """Serialise in the compact form of Home Assistant's `subscribe_entities`."""
        data: dict[str, Any] = {
            "s": self.state,
            "a": self.attributes,
            "c": self.context.id,
            "lc": self.last_changed_timestamp,
        }
        if self.last_updated_timestamp != self.last_changed_timestamp:
            data["lu"] = self.last_updated_timestamp
        return data

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, State)
            and self.entity_id == other.entity_id
            and self.state == other.state
            and self.attributes == other.attributes
            and self.last_updated_timestamp == other.last_updated_timestamp
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<State {self.entity_id}={self.state}>"


class StateMachine:
    """Holds the latest State of every entity and fires `state_changed` when one changes."""

    def __init__(self, bus: EventBus, clock_time: Callable[[], float] = time.time) -> None:
        self._bus = bus
        self._time = clock_time
        self._states: dict[str, State] = {}
        self._known_ids: set[str] = set()

    def get(self, entity_id: str) -> State | None:
        """Return the current state of `entity_id`, or None."""
        return self._states.get(entity_id)

    def is_state(self, entity_id: str, state: str) -> bool:
        """Tell whether `entity_id` exists and is in `state`."""
        current = self._states.get(entity_id)
        return current is not None and current.state == state

    def all(self, domains: str | Iterable[str] | None = None) -> list[State]:
        """Return every state, or those of the given domain(s)."""
        if domains is None:
            return list(self._states.values())
        wanted = {domains} if isinstance(domains, str) else set(domains)
        return [state for state in self._states.values() if state.domain in wanted]

    def entity_ids(self, domain: str | None = None) -> list[str]:
        """Return all entity ids, or those of one domain."""
        if domain is None:
            return list(self._states)
        prefix = f"{domain}."
        return [entity_id for entity_id in self._states if entity_id.startswith(prefix)]

    def __len__(self) -> int:
        return len(self._states)

    def async_set(
        self,
        entity_id: str,
        new_state: str,
        attributes: Mapping[str, Any] | None = None,
        force_update: bool = False,
        context: Context | None = None,
        measured_at: datetime | None = None,
    ) -> State | None:
        """Set an entity's state and fire `state_changed` when it differs from the last one.

        A value measured before the current state's time (late data from a buffer) does not
        replace the current state (unless that is unknown or unavailable): it fires
        `state_backfilled` so the recorder files it under its own time. Returns the new State,
        or None when nothing changed.
        """
        if entity_id not in self._known_ids:
            self._check_new_entity_id(entity_id)
        if type(new_state) is not str:
            new_state = str(new_state)
        if len(new_state) > MAX_STATE_LENGTH:
            raise InvalidStateError(
                f"State of {entity_id} is {len(new_state)} characters; the limit is "
                f"{MAX_STATE_LENGTH}. Put long text in an attribute."
            )
        measured = None if measured_at is None else measured_at.timestamp()
        old = self._states.get(entity_id)
        now = self._time()
        if old is None:
            last_changed = now
            if attributes:
                _check_attributes(entity_id, attributes)
        else:
            # Late only against a real value: a placeholder (unknown at start, unavailable
            # after an outage) gives way to the first value, filed under its source time.
            if (measured is not None and measured < old.timestamp
                    and old.state not in _PLACEHOLDERS):
                late = State(entity_id, new_state, attributes, measured, now, context, measured)
                self._bus.async_fire(
                    EVENT_STATE_BACKFILLED, {"entity_id": entity_id, "state": late},
                    context=late.context, time_fired_timestamp=now,
                )
                return None
            same_state = old.state == new_state
            if attributes is None:
                attributes = _EMPTY_ATTRIBUTES
            if old.attributes == attributes:
                if same_state and not force_update:
                    return None
                attributes = old.attributes
            elif attributes:
                _check_attributes(entity_id, attributes)
            last_changed = old.last_changed_timestamp if same_state else now
        state = State(entity_id, new_state, attributes, last_changed, now, context, measured)
        self._states[entity_id] = state
        self._bus.async_fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": state},
            context=state.context,
            time_fired_timestamp=now,
        )
        return state

    def async_remove(self, entity_id: str, context: Context | None = None) -> bool:
        """Remove an entity's state; fires `state_changed` with `new_state` None."""
        old = self._states.pop(entity_id, None)
        if old is None:
            return False
        self._bus.async_fire(
            EVENT_STATE_CHANGED,
            {"entity_id": entity_id, "old_state": old, "new_state": None},
            context=context,
            time_fired_timestamp=self._time(),
        )
        return True

    def _check_new_entity_id(self, entity_id: str) -> None:
        if not valid_entity_id(entity_id):
            raise InvalidEntityIdError(entity_id)
        self._known_ids.add(entity_id)
