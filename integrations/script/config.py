"""The `script:` block: a mapping of script ids to scripts, each validated on its own.

A broken script is reported with the file and line of the offending key (its first problem)
and left out whole, with a second line naming the script; the valid ones load. Field
selectors are checked here (an unknown selector kind is a configuration error), and so are
field defaults against their selector.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

import voluptuous as vol

from plantpulse.automations.action_schema import SEQUENCE_SCHEMA, identifier, variables_mapping
from plantpulse.automations.selectors import selector_validator
from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import humanize_invalid
from plantpulse.core.config.yaml_loader import Location, NodeDict, locate
from plantpulse.integrations.automation.config import RUN_OPTIONS, TRACE_SCHEMA

# Services of the script domain itself; a script cannot take their names.
RESERVED_IDS: Final = frozenset({"turn_on", "turn_off", "toggle", "reload"})
_OBJECT_ID_RE: Final = re.compile(r"^[a-z0-9_]+$")


def _field(value: Any) -> dict[str, Any]:
    """One field: documentation for the UI, a default, whether it is required, a selector."""
    field = vol.Schema({
        vol.Optional("name"): cv.string,
        vol.Optional("description", default=""): cv.string,
        vol.Optional("example"): object,
        vol.Optional("default"): object,
        vol.Optional("required", default=False): cv.boolean,
        vol.Optional("advanced", default=False): cv.boolean,
        vol.Optional("selector"): vol.Any(None, dict),
    })(value if value is not None else {})
    try:
        validate = selector_validator(field.get("selector"))
    except vol.Invalid as err:
        err.prepend(["selector"])
        raise
    if "default" in field:
        try:
            validate(field["default"])
        except vol.Invalid as err:
            raise vol.Invalid(f"the default does not fit the selector: {err.error_message}",
                              path=["default"]) from None
    return field  # type: ignore[no-any-return]


SCRIPT_SCHEMA: Final = vol.Schema({
    vol.Optional("alias"): cv.string,
    vol.Optional("description", default=""): cv.string,
    vol.Optional("icon"): cv.string,
    **RUN_OPTIONS,
    vol.Optional("trace", default={}): TRACE_SCHEMA,
    vol.Optional("fields", default={}): vol.Any(
        None, vol.Schema({identifier: _field})),
    vol.Optional("variables", default={}): variables_mapping,
    vol.Required("sequence"): SEQUENCE_SCHEMA,
})


@dataclass(frozen=True)
class ScriptConfig:
    """One script: its id, validated settings, the YAML as written (for traces), where it is."""

    object_id: str
    config: dict[str, Any]
    raw: dict[str, Any]
    location: Location = (None, None)

    @property
    def name(self) -> str:
        """The script's friendly name: its alias, else its id."""
        return str(self.config.get("alias") or self.object_id)


def object_id(value: Any) -> str:
    """A script id: lowercase letters, digits and underscores, not a script service's name."""
    text = cv.string(value)
    if not _OBJECT_ID_RE.match(text):
        raise vol.Invalid("invalid script id (use lowercase letters, digits and underscores, "
                          "e.g. notify_shift_lead)")
    if text in RESERVED_IDS:
        raise vol.Invalid(f"script.{text} is a service of the script integration, so it "
                          "cannot be a script id")
    return text


def _exists(node: Any, part: Any) -> bool:
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return isinstance(node, dict) and part in node


def _reportable(error: vol.Invalid, item: Any, script_id: str) -> vol.Invalid:
    """`error` with a path into the YAML as written, so the core can locate and drop it.

    A single action written without a list is validated as item 0 of one: that index is left
    out. Where the path still leaves the YAML, it is cut there and the message says what was
    wrong further in.
    """
    node: Any = item
    path: list[Any] = []
    for index, part in enumerate(error.path):
        if part == 0 and isinstance(part, int) and not isinstance(node, list):
            continue
        if not _exists(node, part):
            if index < len(error.path) - 1:
                message = humanize_invalid(error).replace("required key", "required setting")
                return vol.Invalid(message, path=[script_id, *path])
            path.append(part)
            break
        node = node[part]
        path.append(part)
    return vol.Invalid(error.msg, path=[script_id, *path], error_message=error.error_message,
                       error_type=error.error_type)


def _location(item: Any) -> Location:
    return getattr(item, "file", None), getattr(item, "line", None)


def validate_scripts(block: Any) -> dict[str, ScriptConfig]:
    """CONFIG_SCHEMA of `script:`: every script validated, all problems raised at once.

    Each broken script gives its first problem (pointing at the offending key) and, when that
    problem is deeper than the script's own keys, a second one on the script, so the core's
    validate_block drops the whole script rather than one of its actions.
    """
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise vol.Invalid("expected a mapping of script ids to scripts, e.g. "
                          "'notify_shift_lead: {sequence: [...]}'")
    errors: list[vol.Invalid] = []
    result: dict[str, ScriptConfig] = {}
    for key, item in block.items():
        try:
            script_id = object_id(key)
        except vol.Invalid as err:
            errors.append(vol.Invalid(err.error_message, path=[key]))
            continue
        if not isinstance(item, dict):
            errors.append(vol.Invalid("expected a script (a mapping with a sequence)",
                                      path=[script_id]))
            continue
        try:
            validated = SCRIPT_SCHEMA(item)
        except vol.Invalid as err:
            first = err.errors[0] if isinstance(err, vol.MultipleInvalid) else err
            error = _reportable(first, item, script_id)
            errors.append(error)
            if len(error.path) > 2:
                _file, line = locate(block, error.path)
                errors.append(vol.Invalid(
                    f"script not loaded (its error on line {line} must be fixed first)",
                    path=[script_id]))
            continue
        validated["fields"] = validated["fields"] or {}
        location = block.key_locations.get(key) if isinstance(block, NodeDict) else None
        result[script_id] = ScriptConfig(script_id, validated, item,
                                         location or _location(item))
    if errors:
        raise vol.MultipleInvalid(errors)
    return result
