"""`template` trigger: fires when a template becomes true (not while it stays true).

The template is re-rendered when an entity it reads changes, and every minute if it uses
`now()`. With `for`, it must stay true that long; turning false cancels. A template that is
already true when the trigger is attached must turn false first. Render errors count as false
and are logged once per error text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import CONF_FOR, CONF_PLATFORM, CONF_VALUE_TEMPLATE
from plantpulse.automations.template_watch import TemplateWatcher
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.automations.validation import period_or_template, render_period
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Context
from plantpulse.core.template import RenderResult, TemplateError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

TRIGGER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_PLATFORM): "template",
    vol.Required(CONF_VALUE_TEMPLATE): cv.template,
    vol.Optional(CONF_FOR): period_or_template,
})


def truthy(value: Any) -> bool:
    """A rendered value as a condition: true, "true", "on", "yes", "1" and non-zero numbers."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "on", "yes", "1", "enable")
    if isinstance(value, bool | int | float):
        return bool(value)
    return False


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Watch the template; fire on each false-to-true change (after `for`, if given)."""
    template = config[CONF_VALUE_TEMPLATE]
    period = config.get(CONF_FOR)
    trigger_data = info.trigger_data
    armed = False
    last_error: str | None = None
    cancel_pending: Callable[[], None] | None = None

    def fire(context: Context | None, delay: timedelta | None) -> None:
        action({**trigger_data, "platform": "template", "entity_id": None,
                "from_state": None, "to_state": None, "for": delay,
                "description": "template"}, context)

    def rendered(result: RenderResult, context: Context | None) -> None:
        nonlocal armed, last_error, cancel_pending
        if result.error is not None and str(result.error) != last_error:
            last_error = str(result.error)
            _LOGGER.warning("Template trigger of %s %s: %s", info.domain, info.name,
                            result.error)
        if result.error is not None or not truthy(result.value):
            armed = True
            if cancel_pending is not None:
                cancel_pending()
                cancel_pending = None
            return
        last_error = None
        if not armed:
            return
        armed = False
        if period is None:
            fire(context, None)
            return
        try:
            delay = render_period(hub, period, info.variables)
        except TemplateError as err:
            _LOGGER.warning("Template trigger of %s %s: 'for': %s", info.domain, info.name, err)
            return

        def elapsed() -> None:
            nonlocal cancel_pending
            cancel_pending = None
            fire(context, delay)

        cancel_pending = hub.async_call_later(delay, elapsed)

    watcher = TemplateWatcher(hub, template, info.variables, rendered)
    first = watcher.start()
    armed = first.error is not None or not truthy(first.value)

    def remove() -> None:
        nonlocal cancel_pending
        watcher.remove()
        if cancel_pending is not None:
            cancel_pending()
            cancel_pending = None

    return remove
