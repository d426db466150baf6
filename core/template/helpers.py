"""The functions and filters automation authors expect, bound to one hub.

`states('sensor.x')`, `states.sensor.x.state`, `is_state`, `state_attr`, `is_state_attr`,
`has_value`, `now`, `utcnow`, `today_at`, `as_timestamp`, `as_datetime`, `as_local`,
`relative_time`, `float`, `int`, `round`, `min`, `max`, `iif`, `timedelta`. Each records what it
read in the render in progress, so template entities re-render when those entities change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from plantpulse.core.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from plantpulse.core.dt import from_timestamp, parse_datetime
from plantpulse.core.states import State
from plantpulse.core.template.environment import budgeted
from plantpulse.core.template.info import ACTIVE

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_NO_DEFAULT: Any = object()


def _track_entity(entity_id: str) -> None:
    if (info := ACTIVE.render) is not None:
        info.entities.add(entity_id)


def _track_time() -> None:
    if (info := ACTIVE.render) is not None:
        info.uses_time = True


class DomainStates:
    """`states.sensor`: the states of one domain, by attribute or by iteration."""

    # Answer Jinja's and the sandbox's checks without looking them up as object ids.
    unsafe_callable = False
    alters_data = False
    jinja_pass_arg = None

    def __init__(self, hub: Hub, domain: str) -> None:
        self._hub = hub
        self._domain = domain

    def __getattr__(self, object_id: str) -> State | None:
        if object_id.startswith("_"):
            raise AttributeError(object_id)
        entity_id = f"{self._domain}.{object_id}"
        _track_entity(entity_id)
        return self._hub.states.get(entity_id)

    def __iter__(self) -> Iterator[State]:
        if (info := ACTIVE.render) is not None:
            info.domains.add(self._domain)
        return budgeted(sorted(self._hub.states.all(self._domain), key=_by_id))

    def __len__(self) -> int:
        if (info := ACTIVE.render) is not None:
            info.domains.add(self._domain)
        return len(self._hub.states.entity_ids(self._domain))


class AllStates:
    """`states`: call it with an entity id for its state string, or reach domains and states as
    attributes (`states.sensor.line_load.state`), or iterate over every state."""

    # Answer Jinja's and the sandbox's checks without looking them up as domains.
    unsafe_callable = False
    alters_data = False
    jinja_pass_arg = None

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def __call__(self, entity_id: str) -> str:
        _track_entity(entity_id)
        state = self._hub.states.get(entity_id)
        return STATE_UNKNOWN if state is None else state.state

    def __getattr__(self, domain: str) -> DomainStates:
        if domain.startswith("_"):
            raise AttributeError(domain)
        return DomainStates(self._hub, domain)

    def __iter__(self) -> Iterator[State]:
        if (info := ACTIVE.render) is not None:
            info.all_states = True
        return budgeted(sorted(self._hub.states.all(), key=_by_id))

    def __len__(self) -> int:
        if (info := ACTIVE.render) is not None:
            info.all_states = True
        return len(self._hub.states)


def _by_id(state: State) -> str:
    return state.entity_id


def _to_float(value: Any, default: Any = _NO_DEFAULT) -> float:
    try:
        result = float(value)
    except (TypeError, ValueError):
        if default is _NO_DEFAULT:
            raise ValueError(
                f"float got invalid input {value!r} and no default was given: write "
                "float(0) or float(none) to choose what a non-number becomes"
            ) from None
        return default
    if not math.isfinite(result) and default is not _NO_DEFAULT:
        return default
    return result


def _to_int(value: Any, default: Any = _NO_DEFAULT, base: int = 10) -> int:
    try:
        if isinstance(value, str) and base != 10:
            return int(value, base)
        return int(float(value)) if isinstance(value, str) and "." in value else int(value)
    except (TypeError, ValueError, OverflowError):
        if default is _NO_DEFAULT:
            raise ValueError(
                f"int got invalid input {value!r} and no default was given"
            ) from None
        return default


def _round(value: Any, precision: int = 0, method: str = "common",
           default: Any = _NO_DEFAULT) -> Any:
    try:
        number = float(value)
    except (TypeError, ValueError):
        if default is _NO_DEFAULT:
            raise ValueError(
                f"round got invalid input {value!r} and no default was given"
            ) from None
        return default
    if method == "ceil":
        factor = 10 ** precision
        number = math.ceil(number * factor) / factor
    elif method == "floor":
        factor = 10 ** precision
        number = math.floor(number * factor) / factor
    elif method == "half":
        number = round(number * 2) / 2
    else:
        number = round(number, precision)
    return int(number) if precision == 0 else number


def _as_datetime(value: Any, default: Any = _NO_DEFAULT) -> datetime | None:
    try:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime.combine(value, time(), UTC)
        if isinstance(value, int | float):
            return from_timestamp(value)
        return parse_datetime(str(value))
    except (TypeError, ValueError, OverflowError, OSError):
        if default is _NO_DEFAULT:
            raise ValueError(f"as_datetime got invalid input {value!r}") from None
        return default


def _as_timestamp(value: Any, default: Any = _NO_DEFAULT) -> float | None:
    try:
        return _as_datetime(value).timestamp()  # type: ignore[union-attr]
    except ValueError:
        if default is _NO_DEFAULT:
            raise ValueError(f"as_timestamp got invalid input {value!r}") from None
        return default


def _iif(value: Any, if_true: Any = True, if_false: Any = False, if_none: Any = False) -> Any:
    if value is None:
        return if_none
    return if_true if value else if_false


def _extreme(pick: Callable[..., Any]) -> Callable[..., Any]:
    def choose(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1:
            return pick(budgeted(args[0]), **kwargs)
        return pick(*args, **kwargs)

    return choose


def _relative_time(moment: Any, now: datetime) -> Any:
    if not isinstance(moment, datetime):
        return moment
    seconds = (now - (moment if moment.tzinfo else moment.replace(tzinfo=UTC))).total_seconds()
    if seconds < 0:
        return moment
    for unit, size in (("year", 31_536_000), ("month", 2_592_000), ("day", 86_400),
                       ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    count = int(seconds)
    return f"{count} second{'s' if count != 1 else ''}"


def hub_namespace(hub: Hub) -> tuple[dict[str, Any], dict[str, Any]]:
    """The global functions and the filters of templates rendered for `hub`."""
    states = AllStates(hub)
    zone = hub.site.tz

    def now() -> datetime:
        _track_time()
        return hub.clock.now().astimezone(zone)

    def utcnow() -> datetime:
        _track_time()
        return hub.clock.now()

    def today_at(clock_time: str = "00:00") -> datetime:
        _track_time()
        wanted = time.fromisoformat(clock_time)
        local = hub.clock.now().astimezone(zone)
        return datetime.combine(local.date(), wanted, zone)

    def is_state(entity_id: str, value: Any) -> bool:
        current = states(entity_id)
        return current in value if isinstance(value, list | tuple) else current == value

    def state_attr(entity_id: str, name: str) -> Any:
        _track_entity(entity_id)
        state = hub.states.get(entity_id)
        return None if state is None else state.attributes.get(name)

    def is_state_attr(entity_id: str, name: str, value: Any) -> bool:
        return state_attr(entity_id, name) == value

    def has_value(entity_id: str) -> bool:
        return states(entity_id) not in (STATE_UNKNOWN, STATE_UNAVAILABLE)

    def as_local(moment: datetime) -> datetime:
        return _as_datetime(moment).astimezone(zone)  # type: ignore[union-attr]

    def relative_time(moment: Any) -> Any:
        return _relative_time(moment, now())

    functions = {
        "states": states, "is_state": is_state, "state_attr": state_attr,
        "is_state_attr": is_state_attr, "has_value": has_value, "now": now,
        "utcnow": utcnow, "today_at": today_at, "as_timestamp": _as_timestamp,
        "as_datetime": _as_datetime, "as_local": as_local, "relative_time": relative_time,
        "float": _to_float, "int": _to_int, "iif": _iif, "min": _extreme(min),
        "max": _extreme(max), "timedelta": timedelta,
    }
    filters = {
        "float": _to_float, "int": _to_int, "round": _round, "iif": _iif,
        "as_timestamp": _as_timestamp, "as_datetime": _as_datetime, "as_local": as_local,
        "is_state": is_state, "state_attr": state_attr, "has_value": has_value,
        "relative_time": relative_time,
    }
    return functions, filters
