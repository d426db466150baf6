"""The `automation:` block: a list of automations, each validated on its own.

Both spellings are accepted (`trigger`/`triggers`, `condition`/`conditions`,
`action`/`actions`). A broken automation is reported with the file and line of the offending
key and left out whole, with a second line naming the automation (so a bad trigger never leaves
an automation running on its other triggers); the valid ones run. A duplicate `id` names both
places and drops the later automation. Automations that use a blueprint are checked for their
shape here and expanded at setup, where the blueprint files can be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import voluptuous as vol

from plantpulse.automations.action_schema import SEQUENCE_SCHEMA, variables_mapping
from plantpulse.automations.conditions import CONDITIONS_SCHEMA
from plantpulse.automations.const import (
    DEFAULT_MAX_RUNS,
    DEFAULT_STORED_TRACES,
    LOG_LEVELS,
    MAX_STORED_TRACES,
    RunMode,
)
from plantpulse.automations.triggers import TRIGGERS_SCHEMA
from plantpulse.core.config import validation as cv
from plantpulse.core.config.yaml_loader import Location

# Plural spelling (Home Assistant 2024.10 on) -> singular spelling; either is accepted.
SPELLINGS: Final = {"triggers": "trigger", "conditions": "condition", "actions": "action"}

MODE_SCHEMA: Final = vol.In([mode.value for mode in RunMode],
                            msg="expected one of single, restart, queued, parallel")
TRACE_SCHEMA: Final = vol.Schema({
    vol.Optional("stored_traces", default=DEFAULT_STORED_TRACES): vol.All(
        vol.Coerce(int), vol.Range(min=1, max=MAX_STORED_TRACES)),
})
COMMON: Final = {
    vol.Optional("id"): vol.All(cv.string, vol.Length(min=1)),
    vol.Optional("alias"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Optional("initial_state"): cv.boolean,
    vol.Optional("trace", default={}): TRACE_SCHEMA,
}
RUN_OPTIONS: Final = {
    vol.Optional("mode", default=RunMode.SINGLE.value): MODE_SCHEMA,
    vol.Optional("max", default=DEFAULT_MAX_RUNS): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional("max_exceeded", default="warning"): vol.All(vol.Lower, vol.In(LOG_LEVELS)),
}
AUTOMATION_SCHEMA: Final = vol.Schema({
    **COMMON,
    **RUN_OPTIONS,
    vol.Optional("variables", default={}): variables_mapping,
    vol.Optional("trigger_variables", default={}): variables_mapping,
    vol.Required("triggers"): vol.All(TRIGGERS_SCHEMA, vol.Length(
        min=1, msg="an automation needs at least one trigger")),
    vol.Optional("conditions", default=[]): CONDITIONS_SCHEMA,
    vol.Required("actions"): SEQUENCE_SCHEMA,
})
BLUEPRINT_USE_SCHEMA: Final = vol.Schema({
    **COMMON,
    vol.Required("use_blueprint"): vol.Schema({
        vol.Required("path"): vol.All(cv.string, vol.Length(min=1)),
        vol.Optional("input", default={}): vol.Any(None, dict),
    }),
})


@dataclass(frozen=True)
class AutomationConfig:
    """One automation: validated settings, the YAML as written (for traces), where it is."""

    config: dict[str, Any]
    raw: dict[str, Any]
    location: Location = (None, None)
    blueprint_inputs: dict[str, Any] | None = field(default=None)

    @property
    def uses_blueprint(self) -> bool:
        """Whether it still has to be expanded from a blueprint."""
        return "use_blueprint" in self.config

    @property
    def name(self) -> str:
        """How messages name it: alias, id, or file and line."""
        alias = self.config.get("alias") or self.config.get("id")
        if alias:
            return f"'{alias}'"
        file, line = self.location
        return f"at {file}, line {line}" if file else "without alias"


def _normalise(item: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """Rename singular keys to plural; returns the result and plural -> key as written."""
    data = dict(item)
    written: dict[str, str] = {}
    for plural, singular in SPELLINGS.items():
        if plural in data and singular in data:
            raise vol.Invalid(f"write either '{singular}' or '{plural}', not both",
                              path=[singular])
        if singular in data:
            data[plural] = data.pop(singular)
            written[plural] = singular
    return data, written


def validate_automation(item: Any) -> dict[str, Any]:
    """One automation (or a use of a blueprint); errors carry paths as the YAML spells them."""
    if not isinstance(item, dict):
        raise vol.Invalid("expected an automation (a mapping with triggers and actions)")
    if "use_blueprint" in item:
        return BLUEPRINT_USE_SCHEMA(item)  # type: ignore[no-any-return]
    data, written = _normalise(item)
    try:
        return AUTOMATION_SCHEMA(data)  # type: ignore[no-any-return]
    except vol.MultipleInvalid as err:
        for error in err.errors:
            _respell(error, written)
        raise
    except vol.Invalid as err:
        _respell(err, written)
        raise


def _respell(error: vol.Invalid, written: dict[str, str]) -> None:
    if error.path and error.path[0] in written:
        error.path[0] = written[error.path[0]]


def _location(item: Any) -> Location:
    return getattr(item, "file", None), getattr(item, "line", None)


def _describe(item: Any, index: int) -> str:
    if isinstance(item, dict) and (item.get("alias") or item.get("id")):
        return f"automation '{item.get('alias') or item.get('id')}'"
    return f"automation {index + 1} of the list"


def validate_automations(block: Any) -> list[AutomationConfig]:
    """CONFIG_SCHEMA of `automation:`: every automation validated, all problems raised at once.

    An error deep inside an automation (a trigger's key) comes with a second error on the
    automation itself, so the core's validate_block drops the automation, not just the
    trigger.
    """
    items = cv.ensure_list(block)
    errors: list[vol.Invalid] = []
    result: list[AutomationConfig] = []
    seen: dict[str, Location] = {}
    for index, item in enumerate(items):
        try:
            validated = validate_automation(item)
        except vol.Invalid as err:
            found = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
            for error in found:
                error.prepend([index])
                errors.append(error)
            if any(any(isinstance(part, int) for part in error.path[1:]) for error in found):
                errors.append(vol.Invalid(
                    f"{_describe(item, index)} is not loaded until the error(s) reported "
                    "for it are fixed", path=[index]))
            continue
        automation_id = validated.get("id")
        if automation_id is not None:
            where = item.key_locations.get("id") if hasattr(item, "key_locations") else None
            where = where or _location(item)
            if automation_id in seen:
                first_file, first_line = seen[automation_id]
                errors.append(vol.Invalid(
                    f"duplicate id '{automation_id}' (first defined in {first_file}, line "
                    f"{first_line}; this automation is left out)", path=[index, "id"]))
                continue
            seen[automation_id] = where
        result.append(AutomationConfig(validated, item, _location(item)))
    if errors:
        raise vol.MultipleInvalid(errors)
    return result
