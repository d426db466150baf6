"""The trigger registry: validate a trigger mapping and attach it with its platform's module.

Built-in platforms are modules of this package; an integration adds one as
`plantpulse.integrations.<platform>.trigger` (see the package docstring for the interface).
`homeassistant` is accepted as another name of the `plantpulse` start/shutdown platform.
Every trigger may have `id`, `alias`, `enabled` and `variables` (rendered when it fires, with
`trigger` available, and handed to the run as top-level variables).
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import (
    CONF_ALIAS,
    CONF_ENABLED,
    CONF_ID,
    CONF_PLATFORM,
    CONF_VARIABLES,
)
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Context
from plantpulse.core.loader import CUSTOM_PACKAGE
from plantpulse.core.template import TemplateError, render_complex

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

_ALIASES: Final = {"homeassistant": "plantpulse"}
_NAME_RE: Final = re.compile(r"^[a-z][a-z0-9_]*$")


def _variables(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping of variable names to values")
    for key in value:
        if not isinstance(key, str) or not key.isidentifier():
            raise vol.Invalid(f"invalid variable name {key!r}", path=[key])
    return cv.template_complex(value)  # type: ignore[no-any-return]


_COMMON: Final = vol.Schema({
    vol.Optional(CONF_ID): vol.All(cv.string, vol.Length(min=1)),
    vol.Optional(CONF_ALIAS): cv.string,
    vol.Optional(CONF_ENABLED, default=True): cv.boolean,
    vol.Optional(CONF_VARIABLES): _variables,
})
_COMMON_KEYS: Final = (CONF_ID, CONF_ALIAS, CONF_ENABLED, CONF_VARIABLES)
_modules: dict[str, types.ModuleType] = {}

TriggerAction = Callable[[dict[str, Any], Context | None], Any]


@dataclass(frozen=True, slots=True)
class TriggerInfo:
    """What a platform needs besides its config: who attaches it and with which variables.

    `trigger_data` (id, idx, alias) goes first into every `trigger` variable the platform
    makes; `variables` are what templates in the trigger may use (an automation's
    `trigger_variables`, or a run's variables for `wait_for_trigger`); `starting` is True
    while the hub starts, when `plantpulse: start` triggers fire.
    """

    domain: str
    name: str
    trigger_data: Mapping[str, Any] = field(default_factory=dict)
    variables: Mapping[str, Any] = field(default_factory=dict)
    starting: bool = False


def platform_module(name: str) -> types.ModuleType:
    """The module of trigger platform `name`; raises LookupError when there is none.

    Looked up in order: this package, a loaded custom integration `<name>` (from
    `<config>/custom_integrations/<name>/trigger.py`; the loader imports the integrations a
    configuration names before validating it), a built-in integration `<name>`.
    """
    name = _ALIASES.get(name, name)
    module = _modules.get(name)
    if module is not None:
        return module
    if not _NAME_RE.match(name):
        raise LookupError(f"invalid trigger platform name {name!r}")
    custom = f"{CUSTOM_PACKAGE}.{name}"
    if custom in sys.modules and (found := _import_platform(f"{custom}.trigger")) is not None:
        return found  # not cached: another configuration may not have this integration
    for module_name in (f"{__name__}.{name}", f"plantpulse.integrations.{name}.trigger"):
        if (found := _import_platform(module_name)) is not None:
            _modules[name] = found
            return found
    raise LookupError(f"unknown trigger platform '{name}'")


def _import_platform(module_name: str) -> types.ModuleType | None:
    """The module if it exists and is a trigger platform; errors inside it propagate."""
    try:
        found = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            return None
        raise
    if hasattr(found, "TRIGGER_SCHEMA") and hasattr(found, "async_attach_trigger"):
        return found
    return None


def validate_trigger(value: Any) -> dict[str, Any]:
    """One trigger: `platform:` or `trigger:` names its platform; `id`, `alias`, `enabled`."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a trigger mapping such as {platform: state, entity_id: ...}")
    key = CONF_PLATFORM if CONF_PLATFORM in value else "trigger"
    if CONF_PLATFORM in value and "trigger" in value:
        raise vol.Invalid("write either 'platform' or 'trigger', not both", path=["trigger"])
    if key not in value:
        raise vol.Invalid("required key 'platform' is missing (or write 'trigger: state')")
    name = value[key]
    if not isinstance(name, str):
        raise vol.Invalid("expected a platform name", path=[key])
    try:
        module = platform_module(name)
    except LookupError as err:
        raise vol.Invalid(str(err), path=[key]) from None
    except Exception as err:  # an integration's trigger.py that fails to import
        _LOGGER.exception("Cannot import trigger platform %s", name)
        raise vol.Invalid(f"trigger platform '{name}' cannot be loaded: "
                          f"{type(err).__name__}: {err}", path=[key]) from None
    common = _COMMON({k: v for k, v in value.items() if k in _COMMON_KEYS})
    specific = {k: v for k, v in value.items() if k not in _COMMON_KEYS and k != key}
    specific[CONF_PLATFORM] = _ALIASES.get(name, name)
    return {**module.TRIGGER_SCHEMA(specific), **common}


TRIGGERS_SCHEMA: Final = vol.All(cv.ensure_list, [validate_trigger])


def async_attach_triggers(
    hub: Hub,
    configs: Sequence[dict[str, Any]],
    action: TriggerAction,
    info: TriggerInfo,
) -> Callable[[], None]:
    """Attach every enabled trigger; returns one function that detaches them all.

    A trigger that cannot be attached (a webhook id already taken) is logged and skipped.
    """
    removers: list[Callable[[], None]] = []
    for index, config in enumerate(configs):
        if not config.get(CONF_ENABLED, True):
            continue
        data = {"id": config.get(CONF_ID, str(index)), "idx": str(index),
                "alias": config.get(CONF_ALIAS)}
        platform_info = TriggerInfo(info.domain, info.name, data, info.variables, info.starting)
        platform_action = action
        if CONF_VARIABLES in config:
            platform_action = _with_variables(hub, config[CONF_VARIABLES], action, platform_info)
        try:
            module = platform_module(config[CONF_PLATFORM])
            removers.append(module.async_attach_trigger(hub, config, platform_action,
                                                        platform_info))
        except Exception as err:
            _LOGGER.error("%s %s: trigger %s (%s) not attached: %s", info.domain, info.name,
                          index, config[CONF_PLATFORM], err)

    def remove_all() -> None:
        for remove in removers:
            remove()
        removers.clear()

    return remove_all


def _with_variables(
    hub: Hub, templates: Mapping[str, Any], action: TriggerAction, info: TriggerInfo
) -> TriggerAction:
    """Wrap `action` to render the trigger's `variables` when it fires.

    They are rendered in order (each sees the ones before, the `trigger` and the attaching
    variables) and handed on as `trigger_vars["variables"]`; the run makes them top-level
    variables. A template error is logged and that firing starts no run.
    """

    def fired(trigger_vars: dict[str, Any], context: Context | None) -> None:
        scope: dict[str, Any] = {**info.variables, "trigger": trigger_vars}
        values: dict[str, Any] = {}
        for name, template in templates.items():
            try:
                values[name] = scope[name] = render_complex(template, hub, scope)
            except TemplateError as err:
                _LOGGER.error("%s %s: trigger %s: variable %s: %s", info.domain, info.name,
                              info.trigger_data.get("idx"), name, err)
                return
        action({**trigger_vars, CONF_VARIABLES: values}, context)

    return fired
