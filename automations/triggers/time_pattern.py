"""`time_pattern` trigger: whenever the local time matches `hours`/`minutes`/`seconds` patterns.

Each is a number (`5`), `"*"` (any), or `"/5"` (every fifth: 0, 5, 10...). As in Home
Assistant, a unit left out is 0 when a larger unit is given and any otherwise: `minutes: "/5"`
fires at second 0 of every fifth minute, `hours: 18, seconds: 30` once a day at 18:00:30.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import CONF_PLATFORM
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.core.config import validation as cv

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_UNITS: Final = (("hours", 24), ("minutes", 60), ("seconds", 60))


def _pattern(limit: int) -> Callable[[Any], str | int]:
    def validate(value: Any) -> str | int:
        text = cv.string(value).strip()
        if text == "*":
            return text
        number = text[1:] if text.startswith("/") else text
        if not number.isdigit() or not 0 <= int(number) < limit or (
                text.startswith("/") and int(number) == 0):
            raise vol.Invalid(f"expected a number from 0 to {limit - 1}, '*' or '/n'")
        return text if text.startswith("/") else int(number)

    return validate


def _needs_one(config: dict[str, Any]) -> dict[str, Any]:
    if not any(unit in config for unit, _limit in _UNITS):
        raise vol.Invalid("a time_pattern needs 'hours', 'minutes' or 'seconds'")
    return config


TRIGGER_SCHEMA: Final = vol.All(vol.Schema({
    vol.Required(CONF_PLATFORM): "time_pattern",
    **{vol.Optional(unit): _pattern(limit) for unit, limit in _UNITS},
}), _needs_one)


def allowed_values(config: dict[str, Any]) -> list[frozenset[int]]:
    """The hours, minutes and seconds the pattern matches (HA's defaults for units left out)."""
    result = []
    larger_given = False
    for unit, limit in _UNITS:
        value = config.get(unit, 0 if larger_given else "*")
        larger_given = larger_given or unit in config
        if value == "*":
            result.append(frozenset(range(limit)))
        elif isinstance(value, str):
            step = int(value[1:])
            result.append(frozenset(range(0, limit, step)))
        else:
            result.append(frozenset((value,)))
    return result


def next_match(after: datetime, allowed: list[frozenset[int]]) -> datetime:
    """The first whole local second strictly after `after` (aware, local) that matches."""
    hours, minutes, seconds = (sorted(values) for values in allowed)
    moment = after.replace(microsecond=0) + timedelta(seconds=1)
    for _ in range(3 * 24 * 60):  # at most a few days of minutes, whatever the pattern
        if moment.hour not in allowed[0]:
            later = [hour for hour in hours if hour > moment.hour]
            moment = (moment.replace(hour=later[0], minute=0, second=0) if later else
                      (moment + timedelta(days=1)).replace(hour=hours[0], minute=0, second=0))
            continue
        if moment.minute not in allowed[1]:
            later = [minute for minute in minutes if minute > moment.minute]
            moment = (moment.replace(minute=later[0], second=0) if later else
                      (moment + timedelta(hours=1)).replace(minute=0, second=0))
            continue
        if moment.second not in allowed[2]:
            later = [second for second in seconds if second > moment.second]
            moment = (moment.replace(second=later[0]) if later else
                      (moment + timedelta(minutes=1)).replace(second=0))
            continue
        return moment
    raise ValueError("time pattern never matches")


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Schedule the next matching second, fire, and schedule the one after."""
    allowed = allowed_values(config)
    trigger_data = info.trigger_data
    cancel: Callable[[], None] | None = None

    def schedule(after: datetime) -> None:
        nonlocal cancel
        moment = next_match(after, allowed)
        cancel = hub.async_call_at(moment, partial(due, moment), "time_pattern trigger")

    def due(moment: datetime) -> None:
        now = hub.clock.now().astimezone(hub.site.tz)
        action({**trigger_data, "platform": "time_pattern", "now": now,
                "description": "time pattern"}, None)
        # A system clock may fire a hair early: never plan the same second twice.
        schedule(max(now, moment))

    schedule(hub.clock.now().astimezone(hub.site.tz))

    def remove() -> None:
        if cancel is not None:
            cancel()

    return remove
