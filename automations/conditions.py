"""Conditions: validated from YAML, then compiled once into plain callables.

Kinds: `state`, `numeric_state`, `time` (after/before/weekday, across midnight, in the site's
time zone), `template`, `trigger` (by trigger id), `and`/`or`/`not`; a template string alone
(`- "{{ ... }}"` or `condition: "{{ ... }}"`) is a template condition. `enabled: false` makes
a condition pass without being checked.

A compiled condition is called as `check(variables, trace)` and returns a bool; it records its
result (and those of nested conditions) in the trace when one is given. A template error makes
the condition false and is recorded as that step's error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import (
    CONF_ABOVE,
    CONF_ALIAS,
    CONF_ATTRIBUTE,
    CONF_BELOW,
    CONF_ENABLED,
    CONF_ENTITY_ID,
    CONF_FOR,
    CONF_VALUE_TEMPLATE,
)
from plantpulse.automations.timeutil import entity_time, in_window, time_or_entity
from plantpulse.automations.triggers.numeric_state import numeric_matcher
from plantpulse.automations.triggers.template import truthy
from plantpulse.automations.validation import (
    is_template,
    number_or_entity,
    period_or_template,
    render_period,
    state_values,
)
from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.template import Template

if TYPE_CHECKING:
    from plantpulse.automations.trace import Trace
    from plantpulse.core.hub import Hub

Check = Callable[[Mapping[str, Any], "Trace | None"], bool]

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_KINDS: Final = ("state", "numeric_state", "time", "template", "trigger", "and", "or", "not")
_BASE: Final = {
    vol.Optional(CONF_ALIAS): cv.string,
    vol.Optional(CONF_ENABLED, default=True): cv.boolean,
}


def _needs_limit(config: dict[str, Any]) -> dict[str, Any]:
    if CONF_ABOVE not in config and CONF_BELOW not in config:
        raise vol.Invalid("a numeric_state condition needs 'above', 'below' or both")
    return config


def _needs_time(config: dict[str, Any]) -> dict[str, Any]:
    if not any(key in config for key in ("after", "before", "weekday")):
        raise vol.Invalid("a time condition needs 'after', 'before' or 'weekday'")
    return config


def _conditions_list(value: Any) -> list[dict[str, Any]]:
    return [validate_condition(item) for item in cv.ensure_list(value)]


_SCHEMAS: Final[dict[str, Any]] = {
    "state": vol.Schema({
        vol.Required("condition"): "state",
        vol.Required(CONF_ENTITY_ID): cv.entity_ids,
        vol.Required("state"): vol.All(cv.ensure_list, vol.Length(min=1)),
        vol.Optional(CONF_ATTRIBUTE): cv.string,
        vol.Optional(CONF_FOR): period_or_template,
        vol.Optional("match", default="all"): vol.In(("all", "any")),
        **_BASE,
    }),
    "numeric_state": vol.All(vol.Schema({
        vol.Required("condition"): "numeric_state",
        vol.Required(CONF_ENTITY_ID): cv.entity_ids,
        vol.Optional(CONF_ABOVE): number_or_entity,
        vol.Optional(CONF_BELOW): number_or_entity,
        vol.Optional(CONF_ATTRIBUTE): cv.string,
        vol.Optional(CONF_VALUE_TEMPLATE): cv.template,
        **_BASE,
    }), _needs_limit),
    "time": vol.All(vol.Schema({
        vol.Required("condition"): "time",
        vol.Optional("after"): time_or_entity,
        vol.Optional("before"): time_or_entity,
        vol.Optional("weekday"): vol.All(cv.ensure_list, [vol.All(vol.Lower, vol.In(WEEKDAYS))]),
        **_BASE,
    }), _needs_time),
    "template": vol.Schema({
        vol.Required("condition"): "template",
        vol.Required(CONF_VALUE_TEMPLATE): cv.template,
        **_BASE,
    }),
    "trigger": vol.Schema({
        vol.Required("condition"): "trigger",
        vol.Required("id"): vol.All(cv.ensure_list, [cv.string]),
        **_BASE,
    }),
    **{kind: vol.Schema({
        vol.Required("condition"): kind,
        vol.Required("conditions"): _conditions_list,
        **_BASE,
    }) for kind in ("and", "or", "not")},
}


def validate_condition(value: Any) -> dict[str, Any]:
    """One condition in any of the accepted spellings, normalised to `{condition: kind, ...}`."""
    if isinstance(value, str):
        return {"condition": "template", CONF_VALUE_TEMPLATE: cv.template(value),
                CONF_ENABLED: True}
    if not isinstance(value, dict):
        raise vol.Invalid("expected a condition (a mapping or a template string)")
    if "condition" not in value:
        for kind in ("and", "or", "not"):
            if kind in value:
                rest = {key: item for key, item in value.items() if key != kind}
                try:
                    conditions = _conditions_list(value[kind])
                except vol.Invalid as err:
                    err.prepend([kind])
                    raise
                checked = _SCHEMAS[kind]({**rest, "condition": kind, "conditions": []})
                return {**checked, "conditions": conditions}
        raise vol.Invalid("required key 'condition' is missing")
    kind = value["condition"]
    if is_template(kind):
        rest = {key: item for key, item in value.items() if key != "condition"}
        return _SCHEMAS["template"]({**rest, "condition": "template",
                                     CONF_VALUE_TEMPLATE: kind})
    if kind not in _KINDS:
        raise vol.Invalid(f"unknown condition '{kind}' (use one of {', '.join(_KINDS)})",
                          path=["condition"])
    return _SCHEMAS[kind](value)  # type: ignore[no-any-return]


CONDITIONS_SCHEMA: Final = vol.All(cv.ensure_list, [validate_condition])


class ConditionError(PlantPulseError):
    """A condition could not be evaluated (a template failed, a value is not a number)."""


class _Compiled:
    """A compiled condition: evaluates, records its step in the trace, turns errors false."""

    __slots__ = ("evaluate", "path")

    def __init__(self, path: str, evaluate: Callable[[Mapping[str, Any], Any], bool]) -> None:
        self.path = path
        self.evaluate = evaluate

    def __call__(self, variables: Mapping[str, Any], trace: Trace | None) -> bool:
        if trace is None:
            try:
                return self.evaluate(variables, None)
            except PlantPulseError:
                return False
        step = trace.add_step(self.path)
        try:
            result = self.evaluate(variables, trace)
        except PlantPulseError as err:
            step.error = str(err)
            step.result = {"result": False}
            return False
        step.result = {"result": result}
        return result


def compile_condition(hub: Hub, config: dict[str, Any], path: str) -> Check:
    """Turn one validated condition into `check(variables, trace) -> bool`."""
    if not config.get(CONF_ENABLED, True):
        return _Compiled(path, lambda _variables, _trace: True)
    kind = config["condition"]
    builder = _BUILDERS[kind]
    return _Compiled(path, builder(hub, config, path))


def compile_conditions(hub: Hub, configs: list[dict[str, Any]], prefix: str) -> list[Check]:
    """Compile a list of conditions with trace paths `<prefix>/0`, `<prefix>/1`..."""
    return [compile_condition(hub, config, f"{prefix}/{index}")
            for index, config in enumerate(configs)]


def _state(hub: Hub, config: dict[str, Any], _path: str) -> Callable[..., bool]:
    entity_ids: list[str] = config[CONF_ENTITY_ID]
    attribute = config.get(CONF_ATTRIBUTE)
    # States are strings (YAML's on/off booleans mean "on"/"off"); an attribute matches the
    # value as written or its text (`state: 180` and `state: "180"` both match 180).
    wanted = frozenset(state_values(config["state"]) if attribute is None
                       else [str(value) for value in config["state"]])
    period = config.get(CONF_FOR)
    match_any = config["match"] == "any"
    states = hub.states

    def one(entity_id: str, variables: Mapping[str, Any]) -> bool:
        state = states.get(entity_id)
        if state is None:
            return False
        if attribute is None:
            if state.state not in wanted:
                return False
        elif attribute not in state.attributes or (
                str(state.attributes[attribute]) not in wanted
                and state.attributes[attribute] not in config["state"]):
            return False
        if period is None:
            return True
        held = render_period(hub, period, variables)
        return hub.clock.time() - state.last_changed_timestamp >= held.total_seconds()

    def evaluate(variables: Mapping[str, Any], _trace: Any) -> bool:
        results = (one(entity_id, variables) for entity_id in entity_ids)
        return any(results) if match_any else all(results)

    return evaluate


def _numeric_state(hub: Hub, config: dict[str, Any], _path: str) -> Callable[..., bool]:
    entity_ids: list[str] = config[CONF_ENTITY_ID]
    template: Template | None = config.get(CONF_VALUE_TEMPLATE)

    def evaluate(variables: Mapping[str, Any], _trace: Any) -> bool:
        matches = numeric_matcher(hub, config.get(CONF_ABOVE), config.get(CONF_BELOW),
                                  config.get(CONF_ATTRIBUTE), template, variables)
        return all(matches(hub.states.get(entity_id)) for entity_id in entity_ids)

    if template is None:
        fixed = numeric_matcher(hub, config.get(CONF_ABOVE), config.get(CONF_BELOW),
                                config.get(CONF_ATTRIBUTE), None, {})

        def evaluate_fixed(_variables: Mapping[str, Any], _trace: Any) -> bool:
            return all(fixed(hub.states.get(entity_id)) for entity_id in entity_ids)

        return evaluate_fixed
    return evaluate


def _time(hub: Hub, config: dict[str, Any], _path: str) -> Callable[..., bool]:
    after, before = config.get("after"), config.get("before")
    weekdays = frozenset(WEEKDAYS.index(day) for day in config.get("weekday", ()))
    zone = hub.site.tz
    clock = hub.clock

    def resolve(value: time | str | None) -> time | None:
        if value is None or isinstance(value, time):
            return value
        moment = entity_time(hub.states.get(value), zone)
        if moment is None:
            raise ConditionError(f"{value} does not hold a time")
        return moment.astimezone(zone).time() if isinstance(moment, datetime) else moment

    def evaluate(_variables: Mapping[str, Any], _trace: Any) -> bool:
        now = clock.now().astimezone(zone)
        if weekdays and now.weekday() not in weekdays:
            return False
        return in_window(now.time(), resolve(after), resolve(before))

    return evaluate


def _template(hub: Hub, config: dict[str, Any], _path: str) -> Callable[..., bool]:
    template: Template = config[CONF_VALUE_TEMPLATE]

    def evaluate(variables: Mapping[str, Any], _trace: Any) -> bool:
        return truthy(template.async_render(hub, variables))

    return evaluate


def _trigger(_hub: Hub, config: dict[str, Any], _path: str) -> Callable[..., bool]:
    ids = frozenset(config["id"])

    def evaluate(variables: Mapping[str, Any], _trace: Any) -> bool:
        trigger = variables.get("trigger")
        return isinstance(trigger, Mapping) and trigger.get("id") in ids

    return evaluate


def _group(kind: str) -> Callable[[Hub, dict[str, Any], str], Callable[..., bool]]:
    def build(hub: Hub, config: dict[str, Any], path: str) -> Callable[..., bool]:
        children = compile_conditions(hub, config["conditions"], f"{path}/conditions")

        def evaluate(variables: Mapping[str, Any], trace: Any) -> bool:
            if kind == "and":
                return all(child(variables, trace) for child in children)
            if kind == "or":
                return any(child(variables, trace) for child in children)
            return not any(child(variables, trace) for child in children)

        return evaluate

    return build


_BUILDERS: Final = {
    "state": _state, "numeric_state": _numeric_state, "time": _time,
    "template": _template, "trigger": _trigger,
    "and": _group("and"), "or": _group("or"), "not": _group("not"),
}
