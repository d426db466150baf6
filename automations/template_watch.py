"""Re-render a template whenever something it read changes: entities, domains, or the minute.

Used by the `template` trigger and the `wait_template` action. After each render the watcher
follows exactly what that render read (a template that reads other entities depending on a
value follows the new ones), and re-renders at the start of every minute if it used `now()`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from plantpulse.core.const import EVENT_STATE_CHANGED
from plantpulse.core.events import Context, Event
from plantpulse.core.template import RenderResult, Template
from plantpulse.core.tracking import async_track_state_change_event

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

RenderCallback = Callable[[RenderResult, Context | None], None]


class TemplateWatcher:
    """Renders `template` now and again on every relevant change, calling `on_render`."""

    def __init__(
        self,
        hub: Hub,
        template: Template,
        variables: Mapping[str, Any],
        on_render: RenderCallback,
    ) -> None:
        self._hub = hub
        self._template = template
        self._variables = variables
        self._on_render = on_render
        self._entities: frozenset[str] = frozenset()
        self._domains: frozenset[str] = frozenset()
        self._all = False
        self._remove_entities: Callable[[], None] | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._cancel_minute: Callable[[], None] | None = None
        self._removed = False

    def start(self) -> RenderResult:
        """Render for the first time and start following; returns that render."""
        return self._render()

    def _render(self) -> RenderResult:
        result = self._template.async_render_with_info(self._hub, self._variables)
        self._follow(result)
        return result

    def _rerender(self, context: Context | None) -> None:
        if self._removed:
            return
        self._on_render(self._render(), context)

    def _follow(self, result: RenderResult) -> None:
        info = result.info
        if info.entities != self._entities:
            if self._remove_entities is not None:
                self._remove_entities()
                self._remove_entities = None
            self._entities = frozenset(info.entities)
            if self._entities:
                self._remove_entities = async_track_state_change_event(
                    self._hub, self._entities, self._entity_changed
                )
        domains = frozenset(info.domains)
        if domains != self._domains or info.all_states != self._all:
            self._domains, self._all = domains, info.all_states
            if self._remove_listener is not None:
                self._remove_listener()
                self._remove_listener = None
            if self._domains or self._all:
                self._remove_listener = self._hub.bus.async_listen(
                    EVENT_STATE_CHANGED, self._any_changed, self._relevant
                )
        if info.uses_time and self._cancel_minute is None:
            now = self._hub.clock.now()
            next_minute = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            self._cancel_minute = self._hub.async_call_at(next_minute, self._minute,
                                                          "template re-render")

    def _relevant(self, event: Event) -> bool:
        entity_id: str = event.data["entity_id"]
        if entity_id in self._entities:
            return False  # already followed by id
        return self._all or entity_id.partition(".")[0] in self._domains

    def _entity_changed(self, event: Event) -> None:
        self._rerender(event.context)

    def _any_changed(self, event: Event) -> None:
        self._rerender(event.context)

    def _minute(self) -> None:
        self._cancel_minute = None
        self._rerender(None)

    def remove(self) -> None:
        """Stop following anything."""
        self._removed = True
        for remove in (self._remove_entities, self._remove_listener, self._cancel_minute):
            if remove is not None:
                remove()
        self._remove_entities = self._remove_listener = self._cancel_minute = None
