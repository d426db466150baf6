"""Validators and small renderers shared by triggers, conditions and actions."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.template import Template, TemplateError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub


def state_value(value: Any) -> str:
    """A state to compare with; YAML's unquoted on/off (booleans) mean "on"/"off"."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return cv.string(value)


def state_values(value: Any) -> list[str] | None:
    """One state or a list of them; null means "any state" (but the state must change)."""
    if value is None:
        return None
    return [state_value(item) for item in cv.ensure_list(value)]


def is_template(value: Any) -> bool:
    """Whether a string holds template markup."""
    return isinstance(value, str) and any(marker in value for marker in ("{{", "{%", "{#"))


def period_or_template(value: Any) -> timedelta | Template:
    """A time period (`30`, `"00:05:00"`, `{minutes: 5}`) or a template rendering one."""
    if is_template(value):
        return cv.template(value)
    if isinstance(value, dict) and any(is_template(item) for item in value.values()):
        return cv.template_complex(value)  # type: ignore[no-any-return]
    return cv.time_period(value)


def render_period(hub: Hub, period: Any, variables: Mapping[str, Any]) -> timedelta:
    """Turn a validated `period_or_template` into a timedelta; raises TemplateError."""
    if isinstance(period, timedelta):
        return period
    if isinstance(period, Template):
        value = period.async_render(hub, variables)
    else:
        value = {key: item.async_render(hub, variables) if isinstance(item, Template) else item
                 for key, item in period.items()}
    try:
        return cv.time_period(value)
    except vol.Invalid as err:
        raise TemplateError(f"{err.error_message} (the template gave {value!r})") from None


def number_or_entity(value: Any) -> float | str:
    """A number, or the id of an entity whose state is the number (an input_number)."""
    if isinstance(value, str) and "." in value and not _is_number(value):
        return cv.entity_id(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise vol.Invalid(f"expected a number or an entity id, got {value!r}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
