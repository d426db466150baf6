"""Blueprints: automations with typed inputs, used with `use_blueprint: {path, input}`.

A blueprint is `blueprints/automation/<namespace>/<name>.yaml`: a `blueprint:` header (name,
description, domain, `input:` with a selector and an optional default each) and an automation
body where `!input name` stands for a value. The path is looked up in the user's
`<config>/blueprints/automation/` first, then among the blueprints shipped with PlantPulse
(`Path(plantpulse.__file__).parent / "blueprints"`). Every problem names a file and a line:
the automation's for missing, unknown or wrong inputs and unknown paths, the blueprint's for
problems in the blueprint itself (its header, a default its selector refuses, an undeclared
`!input`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

import voluptuous as vol

import plantpulse
from plantpulse.automations.selectors import Validator, selector_kind, selector_validator
from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import ConfigIssue, humanize_invalid
from plantpulse.core.config.yaml_loader import (
    BlueprintInput,
    Location,
    NodeDict,
    NodeList,
    YamlLoad,
    locate,
)
from plantpulse.core.exceptions import PlantPulseError

SHIPPED_DIR: Final = Path(plantpulse.__file__).resolve().parent / "blueprints"
USER_DIR: Final = "blueprints"
_NO_DEFAULT: Final = object()

BLUEPRINT_SCHEMA: Final = vol.Schema({
    vol.Required("name"): cv.string,
    vol.Optional("description"): cv.string,
    vol.Required("domain"): cv.string,
    vol.Optional("author"): cv.string,
    vol.Optional("source_url"): cv.string,
    vol.Optional("input", default={}): vol.Any(None, {cv.string: vol.Any(None, vol.Schema({
        vol.Optional("name"): cv.string,
        vol.Optional("description"): cv.string,
        vol.Optional("default"): object,
        vol.Optional("selector"): vol.Any(None, dict),
    }))}),
})


class BlueprintError(PlantPulseError):
    """A blueprint cannot be used; carries the ConfigIssue that says where and why."""

    def __init__(self, issue: ConfigIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue


@dataclass(frozen=True)
class BlueprintInputSpec:
    """One declared input: its selector's kind and validator, and its (checked) default."""

    name: str
    kind: str
    validate: Validator
    default: Any = _NO_DEFAULT

    @property
    def required(self) -> bool:
        """Inputs without a default must be given."""
        return self.default is _NO_DEFAULT


@dataclass(frozen=True)
class Blueprint:
    """A loaded blueprint: where it is, what it takes, and its body with `!input` markers."""

    path: str
    file: str
    name: str
    domain: str
    inputs: Mapping[str, BlueprintInputSpec]
    body: NodeDict


def _issue(domain: str, message: str, location: Location) -> BlueprintError:
    file, line = location
    return BlueprintError(ConfigIssue(domain, message, file, line))


def _usable_path(path: str) -> bool:
    relative = PurePosixPath(path)
    return (not relative.is_absolute() and ".." not in relative.parts
            and relative.suffix in (".yaml", ".yml"))


def find_blueprint(config_dir: Path, domain: str, path: str) -> tuple[Path, Path] | None:
    """The file for `path` (user's first, then shipped) and the folder labels are made from."""
    if not _usable_path(path):
        return None
    for base, root in ((config_dir / USER_DIR, config_dir), (SHIPPED_DIR, SHIPPED_DIR.parent)):
        candidate = base / domain / path
        if candidate.is_file():
            return candidate, root
    return None


def load_blueprint(config_dir: Path, domain: str, path: str, where: Location) -> Blueprint:
    """Read and check a blueprint (blocking: call from an executor). Raises BlueprintError."""
    if not _usable_path(path):
        raise _issue(domain, f"blueprint path '{path}' must be a .yaml file under "
                     f"{USER_DIR}/{domain}/, such as plantpulse/off_hours_base_load.yaml "
                     "(no leading / and no '..')", where)
    found = find_blueprint(config_dir, domain, path)
    if found is None:
        raise _issue(domain, f"blueprint '{path}' not found: put it in "
                     f"{USER_DIR}/{domain}/{path} of the config dir, or use a shipped one such "
                     f"as plantpulse/off_hours_base_load.yaml", where)
    file, root = found
    load = YamlLoad(root)
    data = load.load_file(file)
    label = load.label(file)
    if load.issues:
        first = load.issues[0]
        raise _issue(domain, f"blueprint {path}: {first.message}", (first.file, first.line))
    if not isinstance(data, dict) or not isinstance(data.get("blueprint"), dict):
        raise _issue(domain, f"{label} is not a blueprint: it needs a 'blueprint:' header",
                     (label, 1))
    try:
        header = BLUEPRINT_SCHEMA(data["blueprint"])
    except vol.Invalid as err:
        raise _issue(domain, f"blueprint {path}: {humanize_invalid(err)}",
                     locate(data["blueprint"], err.path)) from None
    if header["domain"] != domain:
        raise _issue(domain, f"blueprint {path} is for '{header['domain']}', not {domain}",
                     locate(data, ("blueprint", "domain")))
    inputs = {}
    for name, spec in (header["input"] or {}).items():
        spec = spec or {}
        where = ("blueprint", "input", name)
        try:
            validator = selector_validator(spec.get("selector"))
        except vol.Invalid as err:
            raise _issue(domain, f"blueprint {path}, input '{name}': {err.error_message}",
                         locate(data, (*where, "selector"))) from None
        default = spec.get("default", _NO_DEFAULT)
        if default is not _NO_DEFAULT:
            try:
                default = validator(default)
            except vol.Invalid as err:
                raise _issue(domain, f"blueprint {path}, input '{name}': its default does not "
                             f"fit its selector: {humanize_invalid(err)}",
                             locate(data, (*where, "default"))) from None
        inputs[name] = BlueprintInputSpec(name, selector_kind(spec.get("selector")), validator,
                                          default)
    body = data.copy()
    del body["blueprint"]
    body.key_locations.pop("blueprint", None)
    return Blueprint(path, label, header["name"], domain, inputs, body)


def resolve_inputs(
    blueprint: Blueprint, given: Mapping[str, Any] | None, use: Any, domain: str
) -> dict[str, Any]:
    """The value of every input: given ones checked by their selectors, defaults for the rest.

    `use` is the automation's `use_blueprint` mapping, for locating problems.
    """
    given = given or {}
    inputs_node = use.get("input") if isinstance(use, dict) else None
    values: dict[str, Any] = {}
    for name in given:
        if name not in blueprint.inputs:
            known = ", ".join(sorted(blueprint.inputs)) or "none"
            raise _issue(domain, f"blueprint {blueprint.path} has no input '{name}' (its inputs: "
                         f"{known})", locate(inputs_node, (name,)))
    for name, spec in blueprint.inputs.items():
        if name not in given:
            if spec.required:
                raise _issue(domain, f"blueprint {blueprint.path} needs input '{name}' "
                             f"({spec.kind} selector): add '{name}:' under 'input:'",
                             locate(use, ("input",)) if inputs_node is not None
                             else locate(use, ()))
            values[name] = spec.default
            continue
        try:
            values[name] = spec.validate(given[name])
        except vol.Invalid as err:
            raise _issue(domain, f"input '{name}' of blueprint {blueprint.path}: "
                         f"{humanize_invalid(err)}", locate(inputs_node, (name,))) from None
    return values


def substitute(blueprint: Blueprint, values: Mapping[str, Any], domain: str) -> NodeDict:
    """The body with every `!input name` replaced; keeps file and line information.

    Input values are put in as they are (not searched for `!input` themselves).
    """

    def walk(node: Any, location: Location) -> Any:
        if isinstance(node, BlueprintInput):
            name = str.__str__(node)
            if name not in values:
                raise _issue(domain, f"blueprint {blueprint.path} uses '!input {name}', which "
                             "it does not declare under 'input:'", location)
            return values[name]
        if isinstance(node, NodeDict):
            clone = node.copy()
            for key, item in node.items():
                clone[key] = walk(item, node.key_locations.get(key, location))
            return clone
        if isinstance(node, NodeList):
            clone_list = node.copy()
            for index, item in enumerate(node):
                where = (node.item_locations[index] if index < len(node.item_locations)
                         else location)
                clone_list[index] = walk(item, where)
            return clone_list
        return node

    return walk(blueprint.body, (blueprint.file, 1))  # type: ignore[no-any-return]
