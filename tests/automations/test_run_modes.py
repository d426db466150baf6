"""Run modes on the plant clock: single, restart, queued and parallel, with `max`."""

from __future__ import annotations

import gc
import logging

import pytest

from plantpulse.automations.trace import TraceStore
from tests.automations.conftest import Plant, PlantFactory


def automation(mode: str, extra: str = "") -> str:
    """An automation started by `go` events: `start n`, a 10 s delay, `end n`."""
    return f"""
    automation:
      - id: job
        alias: Job
        mode: {mode}
        {extra}
        triggers: [{{trigger: event, event_type: go}}]
        actions:
          - event: fired
            event_data: {{id: "start {{{{ trigger.event.data.n }}}}"}}
          - delay: 10
          - event: fired
            event_data: {{id: "end {{{{ trigger.event.data.n }}}}"}}
    """


async def go(site: Plant, *numbers: int) -> None:
    for number in numbers:
        site.hub.bus.async_fire("go", {"n": number})
        await site.hub.async_block_till_done()


def executions(site: Plant) -> list[str | None]:
    store = TraceStore.of(site.hub)
    assert store is not None
    return [summary["script_execution"] for summary in store.list("automation", "job")]


def current(site: Plant) -> int:
    return int(site.hub.states.get("automation.job").attributes["current"])


async def test_single_drops_a_second_run_and_logs_it(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    site = await plant(automation("single"))

    await go(site, 1, 2)
    assert current(site) == 1
    await site.advance(10)
    await go(site, 3)
    await site.advance(10)

    assert site.ids() == ["start 1", "end 1", "start 3", "end 3"]
    assert executions(site) == ["finished", "failed_single", "finished"]
    dropped = [record for record in caplog.records if "dropped" in record.getMessage()]
    assert len(dropped) == 1 and dropped[0].levelno == logging.WARNING
    assert "Job" in dropped[0].getMessage()


async def test_single_with_max_exceeded_silent_logs_nothing(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    site = await plant(automation("single", "max_exceeded: silent"))

    await go(site, 1, 2)

    assert executions(site) == [None, "failed_single"]
    assert not [record for record in caplog.records if "dropped" in record.getMessage()]


async def test_restart_stops_the_running_one(plant: PlantFactory) -> None:
    site = await plant(automation("restart"))

    await go(site, 1)
    await site.advance(5)
    await go(site, 2)
    await site.advance(5)
    assert site.ids() == ["start 1", "start 2"]
    await site.advance(5)

    assert site.ids() == ["start 1", "start 2", "end 2"]
    assert executions(site) == ["cancelled", "finished"]
    assert current(site) == 0


async def test_queued_keeps_the_order_and_its_max(
    plant: PlantFactory, caplog: pytest.LogCaptureFixture,
) -> None:
    site = await plant(automation("queued", "max: 3"))

    await go(site, 1, 2, 3, 4)
    assert current(site) == 3
    assert site.ids() == ["start 1"]
    await site.advance(10)
    assert site.ids() == ["start 1", "end 1", "start 2"]
    await site.advance(20)

    assert site.ids() == ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]
    assert executions(site) == ["finished", "finished", "finished", "failed_max_runs"]
    assert current(site) == 0
    assert any("already running 3 times" in record.getMessage() for record in caplog.records)


async def test_queued_runs_that_do_not_wait_run_in_order(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - mode: queued
        triggers: [{trigger: event, event_type: go}]
        actions:
          - event: fired
            event_data: {id: "{{ trigger.event.data.n }}"}
    """)

    for number in range(5):
        site.hub.bus.async_fire("go", {"n": number})
    await site.hub.async_block_till_done()

    assert site.ids() == [0, 1, 2, 3, 4]


async def test_parallel_runs_side_by_side_up_to_max(plant: PlantFactory) -> None:
    site = await plant(automation("parallel", "max: 2"))

    await go(site, 1)
    await site.advance(4)
    await go(site, 2, 3)
    assert current(site) == 2
    await site.advance(6)
    assert site.ids() == ["start 1", "start 2", "end 1"]
    await go(site, 4)
    await site.advance(4)

    assert site.ids() == ["start 1", "start 2", "end 1", "start 4", "end 2"]
    await site.advance(6)
    assert site.ids()[-1] == "end 4"
    assert executions(site) == ["finished", "finished", "failed_max_runs", "finished"]


async def test_current_and_last_triggered_follow_the_runs(plant: PlantFactory) -> None:
    site = await plant(automation("parallel"))

    await go(site, 1)
    await site.advance(5)
    await go(site, 2)
    state = site.hub.states.get("automation.job")
    assert state.attributes["current"] == 2
    assert state.attributes["max"] == 10
    assert state.attributes["mode"] == "parallel"
    assert state.attributes["last_triggered"] == "2026-03-02T09:00:05+00:00"
    await site.advance(10)

    assert current(site) == 0


async def test_restart_drops_the_wait_of_the_stopped_run(plant: PlantFactory) -> None:
    site = await plant("""
    automation:
      - id: job
        mode: restart
        triggers: [{trigger: event, event_type: go}]
        actions:
          - wait_for_trigger:
              - trigger: event
                event_type: ack
          - event: fired
            event_data: {id: "acked {{ trigger.event.data.n }}"}
    """)

    await go(site, 1, 2)
    site.hub.bus.async_fire("ack", {})
    await site.hub.async_block_till_done()

    assert site.ids() == ["acked 2"]
    assert executions(site) == ["cancelled", "finished"]


async def test_a_run_restarted_before_its_task_began_leaves_nothing_behind(
    plant: PlantFactory, recwarn: pytest.WarningsRecorder,
) -> None:
    site = await plant(automation("restart"))

    site.hub.bus.async_fire("go", {"n": 1})
    site.hub.bus.async_fire("go", {"n": 2})
    await site.advance(10)
    gc.collect()

    assert site.ids() == ["start 1", "start 2", "end 2"]
    assert executions(site) == ["cancelled", "finished"]
    assert not [warning for warning in recwarn if "never awaited" in str(warning.message)]
