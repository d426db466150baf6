"""`plantpulse` trigger (also written `homeassistant`): the hub starts or shuts down.

`event: start` fires once when the hub starts with the automation already set up (not when
automations are reloaded later); `event: shutdown` fires when the hub begins to stop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import CONF_PLATFORM
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.core.const import EVENT_HUB_STOP
from plantpulse.core.events import Event

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

EVENT_START: Final = "start"
EVENT_SHUTDOWN: Final = "shutdown"

TRIGGER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_PLATFORM): "plantpulse",
    vol.Required("event"): vol.In((EVENT_START, EVENT_SHUTDOWN),
                                  msg="expected 'start' or 'shutdown'"),
})


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Fire now when attached during the hub's start, or on its stop event."""
    trigger_data = info.trigger_data
    event_name = config["event"]

    def variables() -> dict[str, Any]:
        return {**trigger_data, "platform": "plantpulse", "event": event_name,
                "description": f"hub {event_name}"}

    if event_name == EVENT_START:
        if info.starting:
            action(variables(), None)
        return lambda: None

    def stopping(event: Event) -> None:
        action(variables(), event.context)

    return hub.bus.async_listen_once(EVENT_HUB_STOP, stopping)
