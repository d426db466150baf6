"""A plant for script tests: a started hub from YAML on a ManualClock, with fired events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Event
from plantpulse.core.hub import Hub

# Monday 2 March 2026, 17:00 in Shanghai (the site's default time zone).
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Plant:
    """A running hub whose scripts report through `event: fired` actions."""

    hub: Hub
    clock: ManualClock
    fired: list[dict[str, Any]] = field(default_factory=list)

    async def call(self, service: str, data: dict[str, Any] | None = None,
                   return_response: bool = False) -> Any:
        """Call `domain.service` and wait for it (a script service waits for its run)."""
        domain, _, name = service.partition(".")
        return await self.hub.services.async_call(domain, name, data,
                                                  return_response=return_response)

    async def advance(self, seconds: float) -> None:
        """Move plant time forward, firing what falls due."""
        await self.clock.advance(seconds)
        await self.hub.async_block_till_done()

    def state(self, entity_id: str) -> str | None:
        """The state string of an entity, or None when it has none."""
        state = self.hub.states.get(entity_id)
        return None if state is None else state.state

    def attributes(self, entity_id: str) -> dict[str, Any]:
        """The attributes of an entity."""
        state = self.hub.states.get(entity_id)
        assert state is not None, f"{entity_id} has no state"
        return dict(state.attributes)

    def messages(self) -> list[Any]:
        """The `message` field of each fired event, in order."""
        return [data.get("message") for data in self.fired]


PlantFactory = Callable[..., Awaitable[Plant]]


@pytest.fixture
def plant(hub_factory: Callable[..., Awaitable[Hub]]) -> PlantFactory:
    """`await plant(yaml, extra_files=None, config_dir=None)`: a started plant at START
    (in `config_dir` to start again where an earlier plant stopped)."""

    async def make(text: str, extra_files: dict[str, str] | None = None,
                   config_dir: Path | None = None) -> Plant:
        clock = ManualClock(START)
        hub = await hub_factory(text, extra_files=extra_files, clock=clock, start=False,
                                config_dir=config_dir)
        result = Plant(hub, clock)
        hub.bus.async_listen("fired", lambda event: result.fired.append(dict(event.data)))
        await hub.async_start()
        await hub.async_block_till_done()
        return result

    return make


def record_events(hub: Hub, event_type: str) -> list[Event]:
    """Every `event_type` event from now on."""
    seen: list[Event] = []
    hub.bus.async_listen(event_type, seen.append)
    return seen
