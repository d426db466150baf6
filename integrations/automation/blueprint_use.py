"""Turn automations that use a blueprint into plain automations (blocking: file reads)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Final

import voluptuous as vol

from plantpulse.automations.blueprints import (
    Blueprint,
    BlueprintError,
    load_blueprint,
    resolve_inputs,
    substitute,
)
from plantpulse.core.config.errors import ConfigIssue, humanize_invalid
from plantpulse.core.config.yaml_loader import locate
from plantpulse.integrations.automation.config import AutomationConfig, validate_automation

DOMAIN: Final = "automation"
# Keys written next to `use_blueprint` that replace the blueprint's own.
_OUTER_KEYS: Final = ("id", "alias", "description", "initial_state", "trace")


def expand_blueprints(
    config_dir: Path, automations: list[AutomationConfig]
) -> tuple[list[AutomationConfig], list[ConfigIssue]]:
    """Every automation with its blueprint (if any) filled in and validated.

    Automations whose blueprint is missing, whose inputs are wrong, or whose result is not a
    valid automation are left out and reported.
    """
    loaded: dict[str, Blueprint] = {}
    result: list[AutomationConfig] = []
    issues: list[ConfigIssue] = []
    for automation in automations:
        if not automation.uses_blueprint:
            result.append(automation)
            continue
        use = automation.raw["use_blueprint"]
        path = automation.config["use_blueprint"]["path"]
        try:
            blueprint = loaded.get(path) or load_blueprint(
                config_dir, DOMAIN, path, locate(automation.raw, ("use_blueprint", "path")))
            loaded[path] = blueprint
            values = resolve_inputs(blueprint, automation.config["use_blueprint"]["input"], use,
                                    DOMAIN)
            body = substitute(blueprint, values, DOMAIN)
        except BlueprintError as err:
            issues.append(replace(err.issue, message=f"automation {automation.name}: "
                                  f"{err.issue.message}"))
            continue
        for key in _OUTER_KEYS:
            if key in automation.raw:
                body[key] = automation.raw[key]
                body.key_locations[key] = automation.raw.key_locations.get(
                    key, automation.location)
        try:
            validated = validate_automation(body)
        except vol.Invalid as err:
            errors = err.errors if isinstance(err, vol.MultipleInvalid) else [err]
            for error in errors:
                file, line = locate(body, error.path)
                issues.append(ConfigIssue(
                    DOMAIN, f"blueprint {path}, used by automation {automation.name}: "
                    f"{humanize_invalid(error)}", file, line, tuple(error.path)))
            continue
        result.append(AutomationConfig(validated, body, automation.location, values))
    return result, issues
