"""A plant for trigger and condition tests: a hub from YAML on a ManualClock, fired events."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Event
from plantpulse.core.hub import Hub

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2 March 2026, 17:00 in Shanghai (the site's default time zone).
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Plant:
    """A running hub whose automations report through `event: fired` actions."""

    hub: Hub
    clock: ManualClock
    fired: list[dict[str, Any]] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    async def set(self, entity_id: str, state: str,
                  attributes: dict[str, Any] | None = None) -> None:
        """Set a state and let the automations react."""
        self.hub.states.async_set(entity_id, state, attributes)
        await self.hub.async_block_till_done()

    async def advance(self, seconds: float) -> None:
        """Move plant time forward, firing what falls due."""
        await self.clock.advance(seconds)
        await self.hub.async_block_till_done()

    async def advance_to_local(self, hour: int, minute: int = 0, second: int = 0,
                               day: int = 2) -> None:
        """Move plant time to a local (Shanghai) time in March 2026."""
        await self.clock.advance_to(datetime(2026, 3, day, hour, minute, second,
                                             tzinfo=SHANGHAI))
        await self.hub.async_block_till_done()

    def ids(self) -> list[Any]:
        """The `id` field of each fired event, in order."""
        return [data.get("id") for data in self.fired]


PlantFactory = Callable[..., Awaitable[Plant]]


@pytest.fixture
def plant(hub_factory: Callable[..., Awaitable[Hub]]) -> PlantFactory:
    """`await plant(yaml, start=START, extra_files=None, states=None, clock=None)`: a plant.

    `states` are set before the hub starts (so automations see them when they attach).
    """

    async def make(text: str, start: datetime = START,
                   extra_files: dict[str, str] | None = None,
                   states: dict[str, str] | None = None,
                   clock: ManualClock | None = None) -> Plant:
        clock = clock or ManualClock(start)
        hub = await hub_factory(text, extra_files=extra_files, clock=clock, start=False)
        result = Plant(hub, clock)

        def record(event: Event) -> None:
            result.fired.append(dict(event.data))
            result.contexts.append(event.context)

        hub.bus.async_listen("fired", record)
        for entity_id, state in (states or {}).items():
            hub.states.async_set(entity_id, state)
        await hub.async_start()
        await hub.async_block_till_done()
        return result

    return make
