"""YAML helpers shared by input_*, counter, timer and schedule: `domain: {object_id: {...}}`.

Each object id becomes one entity `<domain>.<object_id>` (as in Home Assistant, the id comes
from the key, not from the name), restored after a restart and reloadable with
`<domain>.reload` without restarting the hub.

    input_number:
      night_limit:            # -> input_number.night_limit
        name: 夜间基荷限值
        min: 0
        max: 100
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.config.load import read_config_dir, validate_block
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.restore_state import RestoreEntity
from plantpulse.core.services import ServiceCall
from plantpulse.core.states import State

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

CONF_NAME: Final = "name"
CONF_ICON: Final = "icon"
CONF_INITIAL: Final = "initial"
SERVICE_RELOAD: Final = "reload"

# The settings every helper accepts.
BASE_SCHEMA: Final = {
    vol.Optional(CONF_NAME): cv.string,
    vol.Optional(CONF_ICON): cv.string,
}


def helpers_schema(item: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The CONFIG_SCHEMA of a helper domain: object ids mapped to settings validated by `item`.

    An empty block means no helpers; a helper without settings (`my_flag:`) gets defaults.
    """
    settings = vol.All(lambda value: {} if value is None else value, item)
    return cv.empty_means_defaults(vol.Schema({cv.slug: settings}))


class HelperEntity(RestoreEntity, ABC):
    """A helper made from one YAML entry; subclasses restore and apply their settings."""

    def __init__(self, object_id: str, config: Mapping[str, Any]) -> None:
        self.object_id = object_id
        self.entity_id = f"{self.DOMAIN}.{object_id}"
        self._config: Mapping[str, Any] = config
        self._apply_base_config()

    def _apply_base_config(self) -> None:
        self._attr_name = self._config.get(CONF_NAME)
        self._attr_icon = self._config.get(CONF_ICON)

    @property
    def config(self) -> Mapping[str, Any]:
        """The validated settings from YAML."""
        return self._config

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        self.async_restore(await self.async_get_last_state(),
                           await self.async_get_last_extra_data())

    @abstractmethod
    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        """Set the starting value: from `initial`, the last state (None after a first start,
        or when the last save did not include it), or the default."""

    def async_update_config(self, config: Mapping[str, Any]) -> None:
        """Take settings changed by a reload; subclasses bring their value within them."""
        self._config = config
        self._apply_base_config()


def initial_or_restored(
    config: Mapping[str, Any], last: State | None, parse: Callable[[str], _T | None], default: _T
) -> _T:
    """The starting value in Home Assistant's order: `initial` when set (it wins at every
    start), else the last state when `parse` accepts it (None: not valid any more), else
    `default`."""
    initial = config.get(CONF_INITIAL)
    if initial is not None:
        return initial  # type: ignore[no-any-return]
    if last is not None and (restored := parse(last.state)) is not None:
        return restored
    return default


HelperFactory = Callable[[str, Mapping[str, Any]], HelperEntity]


async def async_setup_helpers(
    hub: Hub,
    domain: str,
    config: Mapping[str, Mapping[str, Any]],
    factory: HelperFactory,
    schema: Callable[[Any], Any],
) -> None:
    """Create the helpers of `domain` from its validated block and register `<domain>.reload`.

    `schema` is the domain's CONFIG_SCHEMA, used again on reload.
    """
    await hub.entities.async_add(
        domain, [factory(object_id, settings) for object_id, settings in config.items()]
    )

    async def reload(call: ServiceCall) -> None:
        await async_reload_helpers(hub, domain, factory, schema)

    hub.services.async_register(
        domain, SERVICE_RELOAD, reload, vol.Schema({}),
        description=f"Re-read the {domain} helpers from the YAML configuration.",
    )


async def async_read_block(hub: Hub, domain: str, schema: Callable[[Any], Any]) -> Any:
    """The `domain` block as the YAML files say now, validated, for a reload service.

    Broken items are logged and left out, as at start. Raises ServiceValidationError when
    the configuration cannot be read or the block is broken as a whole: nothing may change.
    """
    raw = await hub.async_add_executor_job(read_config_dir, hub.config_dir)
    if not raw.readable:
        raise ServiceValidationError(
            f"{domain}.reload: configuration.yaml cannot be read; nothing was changed "
            "(run 'plantpulse check-config' to see why)"
        )
    block, issues = validate_block(domain, schema, raw.blocks.get(domain))
    for issue in issues:
        _LOGGER.error("%s", issue)
    if block is None and issues:
        raise ServiceValidationError(
            f"{domain}.reload: the {domain} block is invalid; nothing was changed: "
            + "; ".join(issue.message for issue in issues)
        )
    return block


async def async_reload_helpers(
    hub: Hub, domain: str, factory: HelperFactory, schema: Callable[[Any], Any]
) -> None:
    """Apply the current YAML: new helpers are added, removed ones go, changed ones keep their
    value where the new settings allow it.

    Raises ServiceValidationError, changing nothing, when the configuration cannot be read.
    """
    wanted: Mapping[str, Mapping[str, Any]] = await async_read_block(hub, domain, schema) or {}
    current = {
        entity.object_id: entity for entity in hub.entities.all(domain)
        if isinstance(entity, HelperEntity)
    }
    for object_id, entity in current.items():
        if object_id not in wanted:
            await hub.entities.async_remove(entity.entity_id or "")
        elif wanted[object_id] != entity.config:
            entity.async_update_config(wanted[object_id])
            entity.async_write_state()
    await hub.entities.async_add(domain, [
        factory(object_id, settings) for object_id, settings in wanted.items()
        if object_id not in current
    ])
    _LOGGER.info("Reloaded %s: %d helpers", domain, len(wanted))
