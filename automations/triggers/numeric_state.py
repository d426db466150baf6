"""`numeric_state` trigger: a value crosses into a range (`above`, `below`), optionally for a time.

It fires on the change from not matching to matching, never while the value stays in range;
an entity that already matches when the trigger is attached must leave the range first. With
`for`, leaving the range before the time is up cancels. `above`/`below` may name an entity
(an input_number) whose state is the limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import (
    CONF_ABOVE,
    CONF_ATTRIBUTE,
    CONF_BELOW,
    CONF_ENTITY_ID,
    CONF_FOR,
    CONF_PLATFORM,
    CONF_VALUE_TEMPLATE,
)
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.automations.validation import number_or_entity, period_or_template, render_period
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Event
from plantpulse.core.states import State
from plantpulse.core.template import Template
from plantpulse.core.tracking import async_track_state_change_event

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub


def _needs_limit(config: dict[str, Any]) -> dict[str, Any]:
    if CONF_ABOVE not in config and CONF_BELOW not in config:
        raise vol.Invalid("a numeric_state needs 'above', 'below' or both")
    return config


TRIGGER_SCHEMA: Final = vol.All(vol.Schema({
    vol.Required(CONF_PLATFORM): "numeric_state",
    vol.Required(CONF_ENTITY_ID): cv.entity_ids,
    vol.Optional(CONF_ABOVE): number_or_entity,
    vol.Optional(CONF_BELOW): number_or_entity,
    vol.Optional(CONF_VALUE_TEMPLATE): cv.template,
    vol.Optional(CONF_ATTRIBUTE): cv.string,
    vol.Optional(CONF_FOR): period_or_template,
}), _needs_limit)


def numeric_matcher(
    hub: Hub,
    above: float | str | None,
    below: float | str | None,
    attribute: str | None,
    value_template: Template | None,
    variables: Mapping[str, Any],
) -> Callable[[State | None], bool]:
    """A test `matches(state)`: is the state's number in the range? Shared with the condition.

    A template error or a value that is not a number does not match.
    """
    states = hub.states

    def limit(bound: float | str) -> float | None:
        if isinstance(bound, float):
            return bound
        state = states.get(bound)
        try:
            return float(state.state) if state is not None else None
        except ValueError:
            return None

    def matches(state: State | None) -> bool:
        if state is None:
            return False
        raw: Any = state.state if attribute is None else state.attributes.get(attribute)
        if value_template is not None:
            result = value_template.async_render_with_info(
                hub, {**variables, "state": state}
            )
            if result.error is not None:
                return False
            raw = result.value
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return False
        if above is not None:
            low = above if above.__class__ is float else limit(above)
            if low is None or not value > low:
                return False
        if below is not None:
            high = below if below.__class__ is float else limit(below)
            if high is None or not value < high:
                return False
        return True

    return matches


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Arm entities that do not match; fire when an armed one starts to match."""
    entity_ids: list[str] = config[CONF_ENTITY_ID]
    above, below = config.get(CONF_ABOVE), config.get(CONF_BELOW)
    matches = numeric_matcher(hub, above, below, config.get(CONF_ATTRIBUTE),
                              config.get(CONF_VALUE_TEMPLATE), info.variables)
    period = config.get(CONF_FOR)
    trigger_data = info.trigger_data
    descriptions = {entity_id: f"numeric state of {entity_id}" for entity_id in entity_ids}
    armed = {entity_id for entity_id in entity_ids if not matches(hub.states.get(entity_id))}
    pending: dict[str, Callable[[], None]] = {}

    def fire(entity_id: str, old: State | None, new: State, context: Any,
             delay: timedelta | None) -> None:
        action({
            **trigger_data, "platform": "numeric_state", "entity_id": entity_id,
            "below": below, "above": above, "from_state": old, "to_state": new,
            "for": delay, "description": descriptions[entity_id],
        }, context)

    def changed(event: Event) -> None:
        data = event.data
        entity_id = data["entity_id"]
        new = data["new_state"]
        if not matches(new):
            armed.add(entity_id)
            if entity_id in pending:
                pending.pop(entity_id)()
            return
        if entity_id not in armed:
            return
        armed.discard(entity_id)
        if period is None:
            fire(entity_id, data["old_state"], new, event.context, None)
            return
        start(entity_id, data["old_state"], new, event.context)

    def start(entity_id: str, old: State | None, new: State, context: Any) -> None:
        delay = render_period(hub, period, {**info.variables, "trigger": {
            "platform": "numeric_state", "entity_id": entity_id, "from_state": old,
            "to_state": new, "above": above, "below": below,
        }})

        def elapsed() -> None:
            pending.pop(entity_id, None)
            fire(entity_id, old, new, context, delay)

        if delay <= timedelta(0):
            fire(entity_id, old, new, context, delay)
        else:
            pending[entity_id] = hub.async_call_later(delay, elapsed)

    remove_tracking = async_track_state_change_event(hub, entity_ids, changed)

    def remove() -> None:
        remove_tracking()
        for cancel in pending.values():
            cancel()
        pending.clear()

    return remove
