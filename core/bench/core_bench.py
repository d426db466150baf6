"""Event bus and state machine benchmarks, defined as the anchor harness defines them."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from plantpulse.core.bench import BenchOptions, benchmark
from plantpulse.core.events import Event
from plantpulse.core.hub import Hub
from plantpulse.core.template import Template
from plantpulse.core.tracking import async_track_state_change_event

FIRE_EVENTS = 1_000_000
STATE_WRITES = 200_000
SENSORS = 1_000


def run_with_hub(body: Callable[[Hub], Awaitable[float]]) -> float:
    """Run `body(hub)` on a fresh hub in a throwaway config dir and return its figure."""

    async def main() -> float:
        with tempfile.TemporaryDirectory(prefix="plantpulse-bench-") as folder:
            hub = Hub(Path(folder))
            try:
                return await body(hub)
            finally:
                await hub.async_stop()

    return asyncio.run(main())


@benchmark("fire_events", "events/s")
def fire_events(_options: BenchOptions) -> float:
    """1,000,000 events fired, one callback listener; the timer includes firing."""

    async def body(hub: Hub) -> float:
        count = 0

        def listener(_event: Event) -> None:
            nonlocal count
            count += 1

        hub.bus.async_listen("benchmark_event", listener)
        start = time.perf_counter()
        for _ in range(FIRE_EVENTS):
            hub.bus.async_fire("benchmark_event")
        await hub.async_block_till_done()
        elapsed = time.perf_counter() - start
        assert count == FIRE_EVENTS, count
        return FIRE_EVENTS / elapsed

    return run_with_hub(body)


@benchmark("state_set", "writes/s")
def state_set(_options: BenchOptions) -> float:
    """200,000 state writes over 1,000 sensors, one state-tracking listener on all of them."""

    async def body(hub: Hub) -> float:
        ids = [f"sensor.line_{index}" for index in range(SENSORS)]
        attributes = {
            "unit_of_measurement": "kW", "device_class": "power",
            "state_class": "measurement", "friendly_name": "Line power",
        }
        count = 0

        def listener(_event: Event) -> None:
            nonlocal count
            count += 1

        async_track_state_change_event(hub, ids, listener)
        start = time.perf_counter()
        for index in range(STATE_WRITES):
            hub.states.async_set(ids[index % SENSORS], str(index), attributes)
        await hub.async_block_till_done()
        elapsed = time.perf_counter() - start
        assert count == STATE_WRITES, count
        return STATE_WRITES / elapsed

    return run_with_hub(body)


TEMPLATE_RENDERS = 100_000


@benchmark("template_render", "renders/s")
def template_render(_options: BenchOptions) -> float:
    """100,000 renders of the anchor's template: states('sensor.line_load') | float(0) > 40."""

    async def body(hub: Hub) -> float:
        hub.states.async_set("sensor.line_load", "45.2", {"unit_of_measurement": "kW"})
        template = Template("{{ states('sensor.line_load') | float(0) > 40 }}")
        assert template.async_render(hub) is True
        start = time.perf_counter()
        for _ in range(TEMPLATE_RENDERS):
            template.async_render(hub)
        return TEMPLATE_RENDERS / (time.perf_counter() - start)

    return run_with_hub(body)
