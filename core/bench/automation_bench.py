"""Automation engine benchmarks: throughput as the anchor harness defines it, and latency.

Each automation is the shape of the deck's case: a `numeric_state` trigger (a line's power
above 40), a `time` condition (after 00:00:00, always true) and an `event` action. The hub is
built from YAML by the same bootstrap `plantpulse run` uses.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import tempfile
import time
from pathlib import Path

from plantpulse.core.bench import BenchOptions, Figure, benchmark
from plantpulse.core.bootstrap import async_setup_hub
from plantpulse.core.events import Event
from plantpulse.core.hub import Hub

THROUGHPUT_AUTOMATIONS = 100
CROSSINGS = 20_000
LATENCY_AUTOMATIONS = 1_000
LATENCY_RATE = 1_000  # state changes per second
LATENCY_SECONDS = 5
POWER = {"unit_of_measurement": "kW", "device_class": "power", "state_class": "measurement"}


def automations_yaml(count: int, *, recorder: bool) -> str:
    """`count` automations watching sensor.line_0 .. sensor.line_<count-1>."""
    head = "plantpulse:\n  name: bench\n  time_zone: UTC\n"
    head += "recorder:\n" if recorder else ""
    body = "".join(
        f"  - id: a{index}\n"
        f"    alias: line {index} load high\n"
        "    triggers:\n"
        "      - trigger: numeric_state\n"
        f"        entity_id: sensor.line_{index}\n"
        "        above: 40\n"
        "    conditions:\n"
        "      - condition: time\n"
        '        after: "00:00:00"\n'
        "    actions:\n"
        "      - event: bench_done\n"
        "        event_data:\n"
        f"          line: {index}\n"
        for index in range(count)
    )
    return f"{head}automation:\n{body}"


async def _async_hub(folder: Path, count: int, *, recorder: bool) -> Hub:
    (folder / "configuration.yaml").write_text(
        automations_yaml(count, recorder=recorder), encoding="utf-8")
    hub = await async_setup_hub(folder)
    for index in range(count):
        hub.states.async_set(f"sensor.line_{index}", "30", POWER)
    await hub.async_start()
    await hub.async_block_till_done()
    gc.freeze()  # as `plantpulse run` does once the hub has started
    return hub


@benchmark("automations", "runs/s")
def automations(_options: BenchOptions) -> float:
    """100 numeric_state automations, 20,000 crossings (40,000 writes): runs per second."""

    async def main() -> float:
        with tempfile.TemporaryDirectory(prefix="plantpulse-bench-") as folder:
            hub = await _async_hub(Path(folder), THROUGHPUT_AUTOMATIONS, recorder=False)
            try:
                done = 0

                def on_done(_event: Event) -> None:
                    nonlocal done
                    done += 1

                hub.bus.async_listen("bench_done", on_done)
                start = time.perf_counter()
                for crossing in range(CROSSINGS):
                    entity_id = f"sensor.line_{crossing % THROUGHPUT_AUTOMATIONS}"
                    hub.states.async_set(entity_id, "50", POWER)
                    hub.states.async_set(entity_id, "30", POWER)
                    if crossing % 100 == 99:
                        await hub.async_block_till_done()
                await hub.async_block_till_done()
                elapsed = time.perf_counter() - start
                assert done == CROSSINGS, f"{done} runs for {CROSSINGS} crossings"
                return done / elapsed
            finally:
                await hub.async_stop()

    return asyncio.run(main())


@benchmark("automation_latency", "ms p99")
def automation_latency(_options: BenchOptions) -> Figure:
    """1,000 automations, 1,000 changes/s for 5 s with the recorder on: p99 change-to-action.

    Each change is due at a fixed time on a 1 ms grid and latency counts from that time, so a
    loop that falls behind shows up in the figure instead of slowing the writer down. Lower is
    better.
    """

    async def main() -> Figure:
        with tempfile.TemporaryDirectory(prefix="plantpulse-bench-") as folder:
            hub = await _async_hub(Path(folder), LATENCY_AUTOMATIONS, recorder=True)
            try:
                return await _async_measure_latency(hub)
            finally:
                await hub.async_stop()

    return asyncio.run(main())


async def _async_measure_latency(hub: Hub) -> Figure:
    changes = LATENCY_RATE * LATENCY_SECONDS
    due_at: dict[int, float] = {}
    latencies: list[float] = []

    def on_done(event: Event) -> None:
        latencies.append(time.perf_counter() - due_at.pop(event.data["line"]))

    hub.bus.async_listen("bench_done", on_done)
    interval = 1 / LATENCY_RATE
    start = time.perf_counter()
    for change in range(changes):
        due = start + change * interval
        if (wait := due - time.perf_counter()) > 0:
            await asyncio.sleep(wait)
        line = change % LATENCY_AUTOMATIONS
        # Every change of a line alternates 50/30: every second one of a line crosses 40.
        crossing = (change // LATENCY_AUTOMATIONS) % 2 == 0
        if crossing:
            due_at[line] = due
        hub.states.async_set(f"sensor.line_{line}", "50" if crossing else "30", POWER)
    await hub.async_block_till_done()
    assert not due_at, f"{len(due_at)} crossings ran no action"
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return Figure(p99, {
        "p50 ms": statistics.median(latencies) * 1000,
        "max ms": latencies[-1] * 1000,
        "actions": len(latencies),
    })
