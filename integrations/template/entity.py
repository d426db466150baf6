"""What template sensors and binary sensors share: availability, icon, attributes, errors."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, Final

from plantpulse.core.entity import Entity
from plantpulse.core.exceptions import InvalidStateError
from plantpulse.core.template import Template
from plantpulse.integrations.template.const import (
    CONF_ATTRIBUTES,
    CONF_AVAILABILITY,
    CONF_DEVICE_CLASS,
    CONF_ICON,
    CONF_NAME,
    CONF_STATE,
)
from plantpulse.integrations.template.tracker import Results, TemplateTracker

_LOGGER = logging.getLogger(__name__)

_ATTRIBUTE_PREFIX: Final = "attribute:"
_TRUE_WORDS: Final = frozenset({"true", "yes", "on", "enable", "1"})


def result_as_boolean(value: Any) -> bool:
    """Home Assistant's reading of a template result as true or false: true, yes, on, enable
    and non-zero numbers are true; anything else (including unknown) is false."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


class TemplateEntity(Entity, ABC):
    """An entity whose state and attributes are templates, re-rendered when what they read
    changes. Any template failing makes the entity unavailable and is logged once."""

    def __init__(self, config: Mapping[str, Any], unique_id: str | None) -> None:
        self._attr_name = config[CONF_NAME]
        self._attr_unique_id = unique_id
        self._attr_device_class = config.get(CONF_DEVICE_CLASS)
        self._templates: dict[str, Template] = {CONF_STATE: config[CONF_STATE]}
        for key in (CONF_AVAILABILITY, CONF_ICON):
            if key in config:
                self._templates[key] = config[key]
        for name, template in config.get(CONF_ATTRIBUTES, {}).items():
            self._templates[_ATTRIBUTE_PREFIX + name] = template
        self._tracker: TemplateTracker | None = None
        self._error: str | None = None
        self._shown_available = False

    @property
    def tracker(self) -> TemplateTracker | None:
        """What re-renders this entity (None before it is added)."""
        return self._tracker

    async def async_added_to_hub(self) -> None:
        assert self.entity_id is not None
        self._tracker = TemplateTracker(self.hub, self._templates, self._on_render, self.entity_id)
        self.async_on_remove(self._tracker.async_stop)
        # Templates may call helpers other integrations register during setup
        # (`tariff_period()`): the first render waits until they all are.
        self.async_on_remove(self.hub.async_at_started(self._tracker.async_start))

    def _on_render(self, results: Results) -> None:
        availability = results.get(CONF_AVAILABILITY)
        if availability is not None and availability.error is None and not result_as_boolean(
            availability.value
        ):
            # Unavailable by design: the other templates may fail meanwhile (they read what is
            # missing), which is not worth a log line.
            self._attr_available = False
            self._error = None
            self._on_unavailable()
            self._write()
            return
        failed = next(((key, result.error) for key, result in results.items() if result.error),
                      None)
        if failed is not None:
            self._fail(failed[0], str(failed[1]))
            return
        self._attr_available = True
        if CONF_ICON in results:
            icon = results[CONF_ICON].value
            self._attr_icon = None if icon is None else str(icon)
        self._attr_extra_state_attributes = {
            key.removeprefix(_ATTRIBUTE_PREFIX): result.value
            for key, result in results.items() if key.startswith(_ATTRIBUTE_PREFIX)
        } or None
        self._set_state(results[CONF_STATE].value)
        if self._write() and self._error is not None:
            _LOGGER.info("Templates of %s render again", self.entity_id)
            self._error = None

    @abstractmethod
    def _set_state(self, value: Any) -> None:
        """Take the rendered state (only while available)."""

    def _on_unavailable(self) -> None:
        """Called when the entity turns unavailable (pending delays are dropped here)."""

    def _fail(self, key: str, message: str) -> None:
        """Show the entity as unavailable; log when it starts failing, not at every render."""
        if self._error is None:
            _LOGGER.error(
                "Template '%s' of %s failed: %s (it is unavailable until the template renders)",
                key, self.entity_id, message,
            )
        else:
            _LOGGER.debug("Template '%s' of %s still fails: %s", key, self.entity_id, message)
        self._error = f"{key}: {message}"
        self._attr_available = False
        self._on_unavailable()
        self._write()

    def _write(self) -> bool:
        """Write the state; a value the state machine refuses (too long, not JSON) fails the
        entity instead. Returns whether the rendered values were written."""
        try:
            self.async_write_state()
        except InvalidStateError as err:
            self._fail(CONF_STATE, str(err))
            return False
        self._shown_available = self._attr_available
        return True
