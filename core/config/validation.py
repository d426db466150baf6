"""Voluptuous validators that configuration schemas share (Home Assistant users know them)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import voluptuous as vol

from plantpulse.core.states import valid_entity_id
from plantpulse.core.template import Template, TemplateError

_SLUG_RE = re.compile(r"^[a-z0-9_]+$")
_TIME_PERIOD_RE = re.compile(r"^(\d+):(\d+)(?::(\d+(?:\.\d+)?))?$")


def string(value: Any) -> str:
    """Accept a plain value as a string; refuse mappings, lists and null."""
    if value is None or isinstance(value, dict | list):
        raise vol.Invalid("expected a string")
    return str(value)


def boolean(value: Any) -> bool:
    """Accept true/false, yes/no, on/off and 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "on", "1", "enable"):
            return True
        if lowered in ("false", "no", "off", "0", "disable"):
            return False
    elif isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    raise vol.Invalid(f"expected a boolean, got {value!r}")


def ensure_list(value: Any) -> list[Any]:
    """Wrap a single value in a list; None becomes an empty list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def entity_id(value: Any) -> str:
    """A single entity id such as `sensor.line_power`."""
    value = string(value).strip().lower()
    if not valid_entity_id(value):
        raise vol.Invalid(f"invalid entity id {value!r}")
    return value


def entity_ids(value: Any) -> list[str]:
    """One entity id, a comma-separated string of them, or a list."""
    if isinstance(value, str):
        value = [part for part in (item.strip() for item in value.split(",")) if part]
    return [entity_id(item) for item in ensure_list(value)]


def entity_ids_or_all(value: Any) -> str | list[str]:
    """`all`, or entity ids as `entity_ids` takes them (an entity service's target)."""
    if isinstance(value, str) and value.strip().lower() == "all":
        return "all"
    return entity_ids(value)


def slug(value: Any) -> str:
    """Lowercase letters, digits and underscores."""
    value = string(value)
    if not _SLUG_RE.match(value):
        raise vol.Invalid(f"invalid slug {value!r} (use lowercase letters, digits, underscores)")
    return value


def time_zone(value: Any) -> str:
    """An IANA time zone name such as `Asia/Shanghai`."""
    value = string(value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise vol.Invalid(
            f"unknown time zone {value!r}: use an IANA name such as 'Asia/Shanghai'"
        ) from None
    return value


def time_period(value: Any) -> timedelta:
    """Seconds, `HH:MM:SS`, `HH:MM` (as Home Assistant reads it: "01:30" is 1 h 30 min), or a
    mapping of days/hours/minutes/seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise vol.Invalid("expected a time period")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, dict):
        allowed = {"days", "hours", "minutes", "seconds", "milliseconds"}
        unknown = set(value) - allowed
        if unknown or not value:
            raise vol.Invalid(f"expected a time period with keys from {sorted(allowed)}")
        return timedelta(**{key: float(item) for key, item in value.items()})
    if isinstance(value, str):
        match = _TIME_PERIOD_RE.match(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds or 0))
        try:
            return timedelta(seconds=float(value))
        except ValueError:
            pass
    raise vol.Invalid("expected a time period such as 30, '00:05:00' or {minutes: 5}")


def positive_time_period(value: Any) -> timedelta:
    """A time period longer than zero."""
    period = time_period(value)
    if period <= timedelta(0):
        raise vol.Invalid("expected a time period longer than zero")
    return period


def port(value: Any) -> int:
    """A TCP port number."""
    return vol.All(vol.Coerce(int), vol.Range(min=1, max=65535))(value)



def empty_means_defaults(schema: vol.Schema) -> Callable[[Any], Any]:
    """Let an empty block (`recorder:`) stand for all defaults."""

    def validate(value: Any) -> Any:
        return schema({} if value is None else value)

    return validate


def template(value: Any) -> Template:
    """A Jinja2 template (its syntax checked now; rendered later for a hub)."""
    if isinstance(value, Template):
        return value
    if value is None or isinstance(value, dict | list):
        raise vol.Invalid("expected a template string")
    result = Template(str(value))
    try:
        result.ensure_valid()
    except TemplateError as err:
        raise vol.Invalid(str(err)) from None
    return result


def template_complex(value: Any) -> Any:
    """Nested data (service data, event data) whose strings are templates; an error's path
    leads to the broken template, so its line can be named."""
    if isinstance(value, list | dict):
        items = enumerate(value) if isinstance(value, list) else value.items()
        result = {}
        for key, item in items:
            try:
                result[key] = template_complex(item)
            except vol.Invalid as err:
                raise vol.Invalid(err.msg, path=[key, *err.path]) from None
        return list(result.values()) if isinstance(value, list) else result
    if isinstance(value, str):
        return template(value)
    return value


def optional(validator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`validator`, or None for an empty value (`data:` written without anything under it).
    Unlike `vol.Any(None, ...)` this keeps the validator's own message."""

    def validate(value: Any) -> Any:
        return None if value is None else validator(value)

    return validate
