"""`event` trigger: an event of a type fires, its data containing the given `event_data`.

`event_type` may be a list. Templates in `event_data` are rendered once, when the trigger is
attached, with the variables it is given (a `wait_for_trigger` uses this to wait for the
acknowledgement of the very alarm that started the run).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import CONF_PLATFORM
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Event
from plantpulse.core.template import render_complex

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

TRIGGER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_PLATFORM): "event",
    vol.Required("event_type"): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional("event_data"): vol.All(dict, cv.template_complex),
    vol.Optional("context"): vol.Schema({
        vol.Optional("user_id"): vol.All(cv.ensure_list, [cv.string]),
    }),
})


def data_matches(wanted: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether `data` holds every key of `wanted` with an equal value (nested mappings too)."""
    for key, value in wanted.items():
        if key not in data:
            return False
        actual = data[key]
        if isinstance(value, Mapping) and isinstance(actual, Mapping):
            if not data_matches(value, actual):
                return False
        elif actual != value:
            return False
    return True


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Listen for each event type; fire on events whose data and user match."""
    wanted = render_complex(config.get("event_data") or {}, hub, info.variables)
    users = set((config.get("context") or {}).get("user_id") or ())
    trigger_data = info.trigger_data

    def received(event: Event) -> None:
        if wanted and not data_matches(wanted, event.data):
            return
        if users and event.context.user_id not in users:
            return
        action({
            **trigger_data, "platform": "event", "event": event,
            "description": f"event '{event.event_type}'",
        }, event.context)

    removers = [hub.bus.async_listen(event_type, received)
                for event_type in config["event_type"]]

    def remove() -> None:
        for remover in removers:
            remover()

    return remove
