"""Selectors of blueprint inputs: the type of value each input takes, checked when it is used.

Supported (Home Assistant's names): `entity` (domain, device_class, multiple), `number` (min,
max, step, unit_of_measurement), `time`, `text` (multiline, multiple), `target`, `boolean`,
`select` (options, multiple), `duration`, `object`, `action`, `template`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import voluptuous as vol

from plantpulse.automations.timeutil import time_of_day
from plantpulse.core.config import validation as cv

Validator = Callable[[Any], Any]


def _entity(options: dict[str, Any]) -> Validator:
    domains = set(cv.ensure_list(options.get("domain")))
    multiple = bool(options.get("multiple"))

    def one(value: Any) -> str:
        entity_id = cv.entity_id(value)
        if domains and entity_id.partition(".")[0] not in domains:
            raise vol.Invalid(f"{entity_id} is not of domain {', '.join(sorted(domains))}")
        return entity_id

    def validate(value: Any) -> Any:
        if multiple:
            return [one(item) for item in cv.entity_ids(value)]
        return one(value)

    return validate


def _number(options: dict[str, Any]) -> Validator:
    low, high = options.get("min"), options.get("max")

    def validate(value: Any) -> float | int:
        if isinstance(value, bool):
            raise vol.Invalid("expected a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise vol.Invalid(f"expected a number, got {value!r}") from None
        result = int(number) if number.is_integer() and not isinstance(value, float) else number
        if low is not None and number < float(low):
            raise vol.Invalid(f"{result} is below the minimum {low}")
        if high is not None and number > float(high):
            raise vol.Invalid(f"{result} is above the maximum {high}")
        return result

    return validate


def _time(_options: dict[str, Any]) -> Validator:
    return lambda value: time_of_day(value).isoformat()


def _text(options: dict[str, Any]) -> Validator:
    if options.get("multiple"):
        return lambda value: [cv.string(item) for item in cv.ensure_list(value)]
    return cv.string


def _target(_options: dict[str, Any]) -> Validator:
    return vol.Schema({
        vol.Optional("entity_id"): cv.entity_ids,
        vol.Optional("area_id"): vol.All(cv.ensure_list, [cv.string]),
        vol.Optional("device_id"): vol.All(cv.ensure_list, [cv.string]),
    })


def _boolean(_options: dict[str, Any]) -> Validator:
    return cv.boolean


def _select(options: dict[str, Any]) -> Validator:
    choices = [item["value"] if isinstance(item, dict) else item
               for item in options.get("options") or []]
    allowed = [str(choice) for choice in choices]
    multiple = bool(options.get("multiple"))

    def one(value: Any) -> str:
        text = cv.string(value)
        if text not in allowed:
            raise vol.Invalid(f"'{text}' is not one of {', '.join(allowed)}")
        return text

    def validate(value: Any) -> Any:
        if multiple:
            return [one(item) for item in cv.ensure_list(value)]
        return one(value)

    return validate


def _duration(_options: dict[str, Any]) -> Validator:
    def validate(value: Any) -> Any:
        cv.time_period(value)
        return value

    return validate


def _anything(_options: dict[str, Any]) -> Validator:
    return lambda value: value


def _template(_options: dict[str, Any]) -> Validator:
    def validate(value: Any) -> str:
        cv.template(value)
        return cv.string(value)

    return validate


SELECTORS: Final[dict[str, Callable[[dict[str, Any]], Validator]]] = {
    "entity": _entity, "number": _number, "time": _time, "text": _text, "target": _target,
    "boolean": _boolean, "select": _select, "duration": _duration, "object": _anything,
    "action": _anything, "template": _template,
}


def selector_kind(selector: Any) -> str:
    """The kind of a selector mapping (`entity`), or `any` without one; for messages."""
    if isinstance(selector, dict) and len(selector) == 1:
        return str(next(iter(selector)))
    return "any"


def selector_validator(selector: Any) -> Validator:
    """The validator of a selector mapping `{kind: {options}}`; raises vol.Invalid if unknown."""
    if selector is None:
        return _anything({})
    if not isinstance(selector, dict) or len(selector) != 1:
        raise vol.Invalid("a selector is a mapping with one kind, e.g. {entity: {domain: sensor}}")
    kind, options = next(iter(selector.items()))
    if kind not in SELECTORS:
        raise vol.Invalid(f"unknown selector '{kind}' (use one of {', '.join(SELECTORS)})")
    if options is not None and not isinstance(options, dict):
        raise vol.Invalid(f"the options of selector '{kind}' must be a mapping")
    return SELECTORS[kind](options or {})
