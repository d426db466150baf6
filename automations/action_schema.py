"""Validation of action sequences, accepting both spellings Home Assistant users write.

A service call is `action: notify.ops` or `service: notify.ops` (a template may pick the
service), with `data`/`data_template`, `target` and `response_variable`. The other kinds are
named by their key: `delay`, `wait_template`, `wait_for_trigger`, `event`, `condition`,
`choose`, `if`, `repeat`, `variables`, `parallel`, `sequence`, `stop`. Every action takes
`alias`, `enabled` and `continue_on_error`.
"""

from __future__ import annotations

import re
from typing import Any, Final

import voluptuous as vol

from plantpulse.automations.conditions import CONDITIONS_SCHEMA, validate_condition
from plantpulse.automations.const import (
    CONF_ALIAS,
    CONF_CONTINUE_ON_ERROR,
    CONF_CONTINUE_ON_TIMEOUT,
    CONF_ENABLED,
    CONF_TIMEOUT,
)
from plantpulse.automations.triggers import TRIGGERS_SCHEMA
from plantpulse.automations.validation import is_template, period_or_template
from plantpulse.core.config import validation as cv
from plantpulse.core.template import Template

_SERVICE_RE: Final = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")
_BASE: Final = {
    vol.Optional(CONF_ALIAS): cv.string,
    vol.Optional(CONF_ENABLED, default=True): cv.boolean,
    vol.Optional(CONF_CONTINUE_ON_ERROR, default=False): cv.boolean,
}
_BOTH: Final = "write either 'action' or 'service', not both"
# Keys that name an action kind, in the order they are looked for.
KINDS: Final = ("delay", "wait_template", "wait_for_trigger", "event", "condition", "choose",
                "if", "repeat", "variables", "parallel", "sequence", "stop")


def action_kind(config: dict[str, Any]) -> str:
    """Which kind of action a mapping is: one of KINDS, or `service`."""
    for kind in KINDS:
        if kind in config:
            return kind
    if "service" in config or isinstance(config.get("action"), str | Template):
        return "service"
    raise vol.Invalid(
        "cannot tell what this action does: expected 'action: domain.service' or one of "
        + ", ".join(KINDS)
    )


def service_name(value: Any) -> Any:
    """`domain.service`, or a template that renders one."""
    text = cv.string(value).strip()
    if is_template(text):
        return cv.template(text)
    if not _SERVICE_RE.match(text):
        raise vol.Invalid(f"invalid service {text!r}: expected 'domain.service'")
    return text


def variables_mapping(value: Any) -> dict[str, Any]:
    """`name: value` pairs whose strings are templates."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping of variable names to values")
    for key in value:
        if not isinstance(key, str) or not key.isidentifier():
            raise vol.Invalid(f"invalid variable name {key!r}", path=[key])
    return cv.template_complex(value)  # type: ignore[no-any-return]


def _sequence(value: Any) -> list[dict[str, Any]]:
    return SEQUENCE_SCHEMA(value)  # type: ignore[no-any-return]


def target_ids(value: Any) -> Any:
    """Ids in a target: a list, a comma-separated string, or one template (rendered per run
    into one id or a list of them, as `entity_id: "{{ machines }}"`)."""
    if is_template(value):
        return cv.template(value)
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    return [cv.template_complex(item) for item in cv.ensure_list(value)]


_TARGET: Final = vol.Schema({
    vol.Optional(key): target_ids for key in ("entity_id", "area_id", "device_id")
})


def identifier(value: Any) -> str:
    """A variable name: letters, digits and underscores, not starting with a digit."""
    text = cv.string(value)
    if not text.isidentifier():
        raise vol.Invalid(f"invalid variable name {text!r}")
    return text


def _repeat_kind(config: dict[str, Any]) -> dict[str, Any]:
    kinds = [key for key in ("count", "while", "until", "for_each") if key in config]
    if len(kinds) != 1:
        raise vol.Invalid("a repeat needs exactly one of 'count', 'while', 'until', 'for_each'")
    return config


def _parallel_branch(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict) and set(value) - {CONF_ALIAS} == {"sequence"}:
        try:
            return _sequence(value["sequence"])
        except vol.Invalid as err:
            err.prepend(["sequence"])
            raise
    return [validate_action(value)]


_SCHEMAS: Final[dict[str, Any]] = {
    "service": vol.Schema({
        vol.Exclusive("service", "service", msg=_BOTH): service_name,
        vol.Exclusive("action", "service", msg=_BOTH): service_name,
        vol.Optional("data"): cv.optional(vol.All(dict, cv.template_complex)),
        vol.Optional("data_template"): vol.All(dict, cv.template_complex),
        vol.Optional("target"): cv.optional(_TARGET),
        vol.Optional("entity_id"): target_ids,
        vol.Optional("response_variable"): identifier,
        **_BASE,
    }),
    "delay": vol.Schema({vol.Required("delay"): period_or_template, **_BASE}),
    "wait_template": vol.Schema({
        vol.Required("wait_template"): cv.template,
        vol.Optional(CONF_TIMEOUT): period_or_template,
        vol.Optional(CONF_CONTINUE_ON_TIMEOUT, default=True): cv.boolean,
        **_BASE,
    }),
    "wait_for_trigger": vol.Schema({
        vol.Required("wait_for_trigger"): TRIGGERS_SCHEMA,
        vol.Optional(CONF_TIMEOUT): period_or_template,
        vol.Optional(CONF_CONTINUE_ON_TIMEOUT, default=True): cv.boolean,
        **_BASE,
    }),
    "event": vol.Schema({
        vol.Required("event"): vol.All(cv.string, vol.Length(min=1)),
        vol.Optional("event_data"): vol.All(dict, cv.template_complex),
        vol.Optional("event_data_template"): vol.All(dict, cv.template_complex),
        **_BASE,
    }),
    "choose": vol.Schema({
        vol.Required("choose"): vol.All(cv.ensure_list, [vol.Schema({
            vol.Optional(CONF_ALIAS): cv.string,
            vol.Required("conditions"): CONDITIONS_SCHEMA,
            vol.Required("sequence"): _sequence,
        })]),
        vol.Optional("default"): _sequence,
        **_BASE,
    }),
    "if": vol.Schema({
        vol.Required("if"): CONDITIONS_SCHEMA,
        vol.Required("then"): _sequence,
        vol.Optional("else"): _sequence,
        **_BASE,
    }),
    "repeat": vol.Schema({
        vol.Required("repeat"): vol.All(vol.Schema({
            vol.Optional("count"): vol.Any(vol.All(vol.Coerce(int), vol.Range(min=0)),
                                           cv.template),
            vol.Optional("while"): CONDITIONS_SCHEMA,
            vol.Optional("until"): CONDITIONS_SCHEMA,
            vol.Optional("for_each"): vol.Any(vol.All(list, cv.template_complex), cv.template),
            vol.Required("sequence"): _sequence,
        }), _repeat_kind),
        **_BASE,
    }),
    "variables": vol.Schema({vol.Required("variables"): variables_mapping, **_BASE}),
    "parallel": vol.Schema({
        vol.Required("parallel"): vol.All(cv.ensure_list, [_parallel_branch]),
        **_BASE,
    }),
    "sequence": vol.Schema({vol.Required("sequence"): _sequence, **_BASE}),
    "stop": vol.Schema({
        vol.Required("stop"): cv.string,
        vol.Optional("error", default=False): cv.boolean,
        vol.Optional("response_variable"): identifier,
        **_BASE,
    }),
}


def validate_action(value: Any) -> dict[str, Any]:
    """One action mapping, validated for its kind."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected an action (a mapping such as {action: notify.ops})")
    kind = action_kind(value)
    if kind == "condition":
        rest = {key: item for key, item in value.items() if key != CONF_CONTINUE_ON_ERROR}
        checked = validate_condition(rest)
        return {**checked, CONF_CONTINUE_ON_ERROR: cv.boolean(
            value.get(CONF_CONTINUE_ON_ERROR, False))}
    return _SCHEMAS[kind](value)  # type: ignore[no-any-return]


SEQUENCE_SCHEMA: Final = vol.All(cv.ensure_list, [validate_action])
