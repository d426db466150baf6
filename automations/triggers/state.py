"""`state` trigger: an entity's state (or attribute) changes, optionally from/to values, for a time.

Without `from`/`to`/`not_from`/`not_to` every change fires, attribute changes included (unless
`attribute` is given: then only that attribute's changes count). With any of them the value
must really change. `for` waits until the value has stayed that long; any other value cancels.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import (
    CONF_ATTRIBUTE,
    CONF_ENTITY_ID,
    CONF_FOR,
    CONF_FROM,
    CONF_NOT_FROM,
    CONF_NOT_TO,
    CONF_PLATFORM,
    CONF_TO,
)
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.automations.validation import period_or_template, render_period, state_values
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Event
from plantpulse.core.states import State
from plantpulse.core.tracking import async_track_state_change_event

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_MISSING: Final = object()


_VALUE_KEYS: Final = (CONF_FROM, CONF_TO, CONF_NOT_FROM, CONF_NOT_TO)


def _values(value: Any) -> list[Any] | None:
    """One value or a list, kept as written (null means "any value")."""
    return None if value is None else list(cv.ensure_list(value))


def _finish(config: dict[str, Any]) -> dict[str, Any]:
    """States compare as strings (on/off for YAML booleans); attribute values as written."""
    for first, second in ((CONF_FROM, CONF_NOT_FROM), (CONF_TO, CONF_NOT_TO)):
        if first in config and second in config:
            raise vol.Invalid(f"'{first}' and '{second}' cannot be used together")
    if CONF_ATTRIBUTE in config:
        return config
    return {**config, **{key: state_values(config[key]) for key in _VALUE_KEYS if key in config}}


TRIGGER_SCHEMA: Final = vol.All(vol.Schema({
    vol.Required(CONF_PLATFORM): "state",
    vol.Required(CONF_ENTITY_ID): cv.entity_ids,
    **{vol.Optional(key): _values for key in _VALUE_KEYS},
    vol.Optional(CONF_ATTRIBUTE): cv.string,
    vol.Optional(CONF_FOR): period_or_template,
}), _finish)


def _collection(values: list[Any]) -> frozenset[Any] | tuple[Any, ...]:
    """A set for quick lookups; a tuple when attribute values (lists, mappings) cannot hash."""
    try:
        return frozenset(values)
    except TypeError:
        return tuple(values)


def _matcher(config: dict[str, Any], key: str, not_key: str) -> Callable[[Any], bool]:
    if (wanted := config.get(key)) is not None:
        if len(wanted) == 1:
            single = wanted[0]
            return lambda value: value == single
        accepted = _collection(wanted)
        return lambda value: value in accepted
    if (refused := config.get(not_key)) is not None:
        rejected = _collection(refused)
        return lambda value: value is not _MISSING and value not in rejected
    return lambda value: True


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Follow the entities' changes; fire on a matching one (after `for`, if given)."""
    attribute = config.get(CONF_ATTRIBUTE)
    match_from = _matcher(config, CONF_FROM, CONF_NOT_FROM)
    match_to = _matcher(config, CONF_TO, CONF_NOT_TO)
    match_all = not any(key in config for key in (CONF_FROM, CONF_TO, CONF_NOT_FROM, CONF_NOT_TO))
    period = config.get(CONF_FOR)
    trigger_data = info.trigger_data
    pending: dict[str, Callable[[], None]] = {}

    def value_of(state: State | None) -> Any:
        if state is None:
            return None
        if attribute is None:
            return state.state
        return state.attributes.get(attribute, _MISSING)

    def fire(entity_id: str, old: State | None, new: State | None, context: Any,
             delay: timedelta | None) -> None:
        action({
            **trigger_data, "platform": "state", "entity_id": entity_id,
            "from_state": old, "to_state": new, "for": delay, "attribute": attribute,
            "description": f"state of {entity_id}",
        }, context)

    def changed(event: Event) -> None:
        data = event.data
        entity_id = data["entity_id"]
        old, new = data["old_state"], data["new_state"]
        old_value, new_value = value_of(old), value_of(new)
        if entity_id in pending:
            if new is not None and new_value == value_of(pending_states[entity_id]):
                return
            pending.pop(entity_id)()
            pending_states.pop(entity_id, None)
        if attribute is not None and old_value == new_value:
            return
        if not match_all and old_value == new_value:
            return
        if not match_from(old_value) or not match_to(new_value):
            return
        if period is None:
            fire(entity_id, old, new, event.context, None)
            return
        delay = render_period(hub, period, {**info.variables, "trigger": {
            "platform": "state", "entity_id": entity_id, "from_state": old, "to_state": new,
        }})
        if delay <= timedelta(0):
            fire(entity_id, old, new, event.context, delay)
            return

        def elapsed() -> None:
            pending.pop(entity_id, None)
            pending_states.pop(entity_id, None)
            fire(entity_id, old, new, event.context, delay)

        pending[entity_id] = hub.async_call_later(delay, elapsed)
        pending_states[entity_id] = new

    pending_states: dict[str, State | None] = {}
    remove_tracking = async_track_state_change_event(hub, config[CONF_ENTITY_ID], changed)

    def remove() -> None:
        remove_tracking()
        for cancel in pending.values():
            cancel()
        pending.clear()

    return remove
