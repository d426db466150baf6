"""Re-render a template entity's templates only when something they read changes.

After each render the tracker follows exactly what the templates read (it can change from one
render to the next, `{% if %}` branches read different entities):

- entities (`states('sensor.x')`, `state_attr`, `states.sensor.x`): their own `state_changed`
  events, looked up by entity id, re-render at once;
- whole domains (`states.sensor | ...`) or all states (`states | count`): any state change
  there re-renders, at most once per DOMAIN_RATE_LIMIT / ALL_STATES_RATE_LIMIT seconds (as in
  Home Assistant), the last change always caught up;
- time (`now()`, `utcnow()`, `today_at()`): a render at the start of every minute.

The entity's own state never triggers it, so a template reading its own entity cannot loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

from plantpulse.core.const import EVENT_STATE_CHANGED
from plantpulse.core.events import Event
from plantpulse.core.template import RenderResult, Template
from plantpulse.core.tracking import async_track_state_change_event

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN_RATE_LIMIT: Final = 1.0
ALL_STATES_RATE_LIMIT: Final = 60.0
MINUTE: Final = 60.0

Results = Mapping[str, RenderResult]


class TemplateTracker:
    """Renders named templates together and calls `on_render(results)` after each render."""

    def __init__(
        self,
        hub: Hub,
        templates: Mapping[str, Template],
        on_render: Callable[[Results], None],
        own_entity_id: str,
    ) -> None:
        self._hub = hub
        self._templates = dict(templates)
        self._on_render = on_render
        self._own_entity_id = own_entity_id
        self._entities: frozenset[str] = frozenset()
        self._domains: frozenset[str] = frozenset()
        self._all_states = False
        self._last_render = -math.inf
        self._stop_entities: Callable[[], None] | None = None
        self._stop_domains: Callable[[], None] | None = None
        self._cancel_minute: Callable[[], None] | None = None
        self._cancel_limited: Callable[[], None] | None = None

    @property
    def entities(self) -> frozenset[str]:
        """The entity ids the last render read (followed one by one)."""
        return self._entities

    def async_start(self) -> None:
        """Render now and follow what was read."""
        self.async_render()

    def async_stop(self) -> None:
        """Stop following anything."""
        for stop in (self._stop_entities, self._stop_domains, self._cancel_minute,
                     self._cancel_limited):
            if stop is not None:
                stop()
        self._stop_entities = self._stop_domains = None
        self._cancel_minute = self._cancel_limited = None
        self._entities, self._domains, self._all_states = frozenset(), frozenset(), False

    def async_render(self) -> None:
        """Render every template, report the results, and follow what they read now."""
        if self._cancel_limited is not None:
            self._cancel_limited()
            self._cancel_limited = None
        self._last_render = self._hub.clock.time()
        results = {
            key: template.async_render_with_info(self._hub)
            for key, template in self._templates.items()
        }
        entities: set[str] = set()
        domains: set[str] = set()
        all_states = uses_time = False
        for result in results.values():
            info = result.info
            entities |= info.entities
            domains |= info.domains
            all_states = all_states or info.all_states
            uses_time = uses_time or info.uses_time
        entities.discard(self._own_entity_id)
        self._follow_entities(frozenset(entities))
        self._follow_domains(frozenset(domains), all_states)
        self._follow_time(uses_time)
        self._on_render(results)

    def _follow_entities(self, entities: frozenset[str]) -> None:
        if entities == self._entities:
            return
        if self._stop_entities is not None:
            self._stop_entities()
            self._stop_entities = None
        self._entities = entities
        if entities:
            self._stop_entities = async_track_state_change_event(
                self._hub, entities, self._on_entity_change
            )

    def _on_entity_change(self, _event: Event) -> None:
        self.async_render()

    def _follow_domains(self, domains: frozenset[str], all_states: bool) -> None:
        if (domains, all_states) == (self._domains, self._all_states):
            return
        if self._stop_domains is not None:
            self._stop_domains()
            self._stop_domains = None
        self._domains, self._all_states = domains, all_states
        if domains or all_states:
            self._stop_domains = self._hub.bus.async_listen(
                EVENT_STATE_CHANGED, self._on_domain_change, self._concerns_domains
            )

    def _concerns_domains(self, event: Event) -> bool:
        entity_id: str = event.data["entity_id"]
        if entity_id == self._own_entity_id or entity_id in self._entities:
            return False  # its own state, or already handled by the entity listener
        return self._all_states or entity_id.partition(".")[0] in self._domains

    def _on_domain_change(self, _event: Event) -> None:
        if self._cancel_limited is not None:
            return  # a render is already due
        limit = ALL_STATES_RATE_LIMIT if self._all_states else DOMAIN_RATE_LIMIT
        due = self._last_render + limit
        if due <= self._hub.clock.time():
            self.async_render()
        else:
            self._cancel_limited = self._hub.async_call_at(due, self._render_limited)

    def _render_limited(self) -> None:
        self._cancel_limited = None
        self.async_render()

    def _follow_time(self, uses_time: bool) -> None:
        if not uses_time:
            if self._cancel_minute is not None:
                self._cancel_minute()
                self._cancel_minute = None
            return
        if self._cancel_minute is None:
            next_minute = (math.floor(self._hub.clock.time() / MINUTE) + 1) * MINUTE
            self._cancel_minute = self._hub.async_call_at(next_minute, self._on_minute)

    def _on_minute(self) -> None:
        self._cancel_minute = None
        self.async_render()
