"""Template binary sensors: on/off from a template, optionally only after it held a while."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from plantpulse.core.platforms.binary_sensor import BinarySensorEntity
from plantpulse.integrations.template.const import CONF_DELAY_OFF, CONF_DELAY_ON
from plantpulse.integrations.template.entity import TemplateEntity, result_as_boolean


class TemplateBinarySensor(TemplateEntity, BinarySensorEntity):
    """On when the template is true (true, yes, on, a non-zero number).

    With `delay_on` / `delay_off` the change shows only after the template has stayed that way
    for the delay (on the hub clock); going back before then cancels it. The first value after
    a start, or after being unavailable, shows at once.
    """

    def __init__(self, config: Mapping[str, Any], unique_id: str | None) -> None:
        super().__init__(config, unique_id)
        self._delay_on: timedelta | None = config.get(CONF_DELAY_ON)
        self._delay_off: timedelta | None = config.get(CONF_DELAY_OFF)
        self._pending: bool | None = None
        self._cancel_pending: Callable[[], None] | None = None

    def _set_state(self, value: Any) -> None:
        wanted = result_as_boolean(value)
        if wanted == self._pending:
            return  # already waiting for this change
        self._drop_pending()
        delay = self._delay_on if wanted else self._delay_off
        showing = self._attr_is_on is not None and self._shown_available
        if wanted == self._attr_is_on or not showing or not delay:
            self._attr_is_on = wanted
            return
        self._pending = wanted
        self._cancel_pending = self.hub.async_call_later(delay, self._apply_pending)

    def _apply_pending(self) -> None:
        self._cancel_pending = None
        self._attr_is_on, self._pending = self._pending, None
        self._write()

    def _drop_pending(self) -> None:
        if self._cancel_pending is not None:
            self._cancel_pending()
            self._cancel_pending = None
        self._pending = None

    def _on_unavailable(self) -> None:
        self._drop_pending()

    async def async_will_remove_from_hub(self) -> None:
        self._drop_pending()
