"""`time` trigger: at a time of day in the site's time zone, or at the time an entity holds.

`at` is `"17:00"`, `"17:00:30"`, an input_datetime-like entity id, or a list of them. An
entity with only a time fires daily at it; one with a date and time (or a timestamp sensor)
fires once at that moment. Changes of the entity move the trigger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import CONF_PLATFORM
from plantpulse.automations.timeutil import entity_time, next_daily, time_or_entity
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Event
from plantpulse.core.tracking import async_track_state_change_event

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

TRIGGER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_PLATFORM): "time",
    vol.Required("at"): vol.All(cv.ensure_list, [time_or_entity]),
})


class _Moment:
    """One `at` value: its next firing, rescheduled after each one and on entity changes."""

    def __init__(self, hub: Hub, at: time | str, fire: Callable[[str | None], None]) -> None:
        self._hub = hub
        self._at = at
        self._fire = fire
        self._cancel: Callable[[], None] | None = None
        self._remove_tracking: Callable[[], None] | None = None
        self._last: datetime | None = None
        if isinstance(at, str):
            self._remove_tracking = async_track_state_change_event(hub, at, self._changed)

    def schedule(self) -> None:
        """Plan the next firing after now (none for a moment already past)."""
        self._unschedule()
        hub = self._hub
        zone = hub.site.tz
        target = (entity_time(hub.states.get(self._at), zone) if isinstance(self._at, str)
                  else self._at)
        # A system clock may fire a hair early: never plan the moment just fired again.
        now = max(hub.clock.now(), self._last) if self._last else hub.clock.now()
        if isinstance(target, time):
            moment = next_daily(now, target, zone)
        elif isinstance(target, datetime) and target > now:
            moment = target
        else:
            return
        self._cancel = hub.async_call_at(moment, partial(self._due, moment), "time trigger")

    def _due(self, moment: datetime) -> None:
        self._cancel = None
        self._last = moment
        self._fire(self._at if isinstance(self._at, str) else None)
        self.schedule()

    def _changed(self, _event: Event) -> None:
        self.schedule()

    def _unschedule(self) -> None:
        if self._cancel is not None:
            self._cancel()
            self._cancel = None

    def remove(self) -> None:
        """Stop firing and following the entity."""
        self._unschedule()
        if self._remove_tracking is not None:
            self._remove_tracking()


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Schedule every `at` value."""
    trigger_data = info.trigger_data

    def fire(entity_id: str | None) -> None:
        action({
            **trigger_data, "platform": "time", "now": hub.clock.now().astimezone(hub.site.tz),
            "entity_id": entity_id,
            "description": f"time set in {entity_id}" if entity_id else "time",
        }, None)

    moments = [_Moment(hub, at, fire) for at in config["at"]]
    for moment in moments:
        moment.schedule()

    def remove() -> None:
        for moment in moments:
            moment.remove()

    return remove
