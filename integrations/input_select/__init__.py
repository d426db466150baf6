"""input_select: one choice from a list (operating mode, shift, product on the line).

    input_select:
      line_mode:
        name: 产线模式
        options: [生产, 待机, 检修]
        initial: 生产      # optional: the choice at every start; without it the last returns

State the chosen option (the first one by default); attribute `options`. Services
`input_select.select_option {option}`, `select_next` / `select_previous {cycle: true}`,
`select_first`, `select_last`, `set_options {options}` (until the next restart or reload),
`reload`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.entity import Entity, EntityService
from plantpulse.core.states import State
from plantpulse.integrations.input_boolean.collection import (
    BASE_SCHEMA,
    CONF_INITIAL,
    HelperEntity,
    async_setup_helpers,
    helpers_schema,
    initial_or_restored,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN: Final = "input_select"
CONF_OPTIONS: Final = "options"
ATTR_OPTION: Final = "option"
ATTR_CYCLE: Final = "cycle"


def _unique_options(options: list[str]) -> list[str]:
    if not options:
        raise vol.Invalid("at least one option is needed")
    duplicates = sorted({option for option in options if options.count(option) > 1})
    if duplicates:
        raise vol.Invalid(f"options must differ; repeated: {', '.join(duplicates)}")
    return options


OPTIONS = vol.All(cv.ensure_list, [cv.string], _unique_options)


def _initial_among_options(config: dict[str, Any]) -> dict[str, Any]:
    initial = config.get(CONF_INITIAL)
    if initial is not None and initial not in config[CONF_OPTIONS]:
        raise vol.Invalid(
            f"'initial' ({initial}) is not one of the options: {', '.join(config[CONF_OPTIONS])}"
        )
    return config


CONFIG_SCHEMA: Final = helpers_schema(vol.All(vol.Schema({
    **BASE_SCHEMA,
    vol.Required(CONF_OPTIONS): OPTIONS,
    vol.Optional(CONF_INITIAL): cv.string,
}), _initial_among_options))


class InputSelect(HelperEntity, Entity):
    """One option out of a list, chosen by people and automations."""

    DOMAIN = DOMAIN
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "select_option": EntityService(
            "async_select_option", {vol.Required(ATTR_OPTION): cv.string},
            "Choose one of the options.",
        ),
        "select_next": EntityService(
            "async_select_next", {vol.Optional(ATTR_CYCLE, default=True): cv.boolean},
            "Choose the next option; after the last comes the first unless cycle is false.",
        ),
        "select_previous": EntityService(
            "async_select_previous", {vol.Optional(ATTR_CYCLE, default=True): cv.boolean},
            "Choose the previous option; before the first comes the last unless cycle is false.",
        ),
        "select_first": EntityService("async_select_first", description="Choose the first."),
        "select_last": EntityService("async_select_last", description="Choose the last."),
        "set_options": EntityService(
            "async_set_options", {vol.Required(CONF_OPTIONS): OPTIONS},
            "Replace the options until the next restart or reload.",
        ),
    }

    def __init__(self, object_id: str, config: Mapping[str, Any]) -> None:
        super().__init__(object_id, config)
        self._options: list[str] = list(config[CONF_OPTIONS])
        self._current: str = self._options[0]

    @property
    def state(self) -> str:
        return self._current

    @property
    def state_attributes(self) -> Mapping[str, Any]:
        return {CONF_OPTIONS: list(self._options)}

    def _known(self, option: str) -> str | None:
        return option if option in self._options else None

    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        self._current = initial_or_restored(self.config, last, self._known, self._options[0])

    def async_update_config(self, config: Mapping[str, Any]) -> None:
        super().async_update_config(config)
        self._options = list(config[CONF_OPTIONS])
        if self._current not in self._options:
            self._current = self._options[0]

    async def async_select_option(self, option: str) -> None:
        """Choose `option`; anything not in the list is refused."""
        if option not in self._options:
            raise vol.Invalid(
                f"'{option}' is not an option (choose from {', '.join(self._options)})"
            )
        self._current = option

    async def async_select_next(self, cycle: bool = True) -> None:
        """The option after the current one."""
        self._move(1, cycle)

    async def async_select_previous(self, cycle: bool = True) -> None:
        """The option before the current one."""
        self._move(-1, cycle)

    def _move(self, offset: int, cycle: bool) -> None:
        index = self._options.index(self._current) + offset
        count = len(self._options)
        self._current = self._options[index % count if cycle else min(max(index, 0), count - 1)]

    async def async_select_first(self) -> None:
        """The first option."""
        self._current = self._options[0]

    async def async_select_last(self) -> None:
        """The last option."""
        self._current = self._options[-1]

    async def async_set_options(self, options: list[str]) -> None:
        """New options; the current choice stays if it is among them, else the first."""
        self._options = list(options)
        if self._current not in self._options:
            self._current = self._options[0]


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create one entity per configured list."""
    await async_setup_helpers(hub, DOMAIN, config, InputSelect, CONFIG_SCHEMA)
    return True
