"""Hub lifecycle: timers, intervals, executor, ordered stop."""

from __future__ import annotations

import asyncio
import threading

from plantpulse.core.const import EVENT_HUB_STOP, HubState
from plantpulse.core.hub import Hub, StopStage


async def test_call_later_and_cancel(hub: Hub) -> None:
    fired: list[str] = []
    hub.async_call_later(0.01, lambda: fired.append("a"))
    cancel = hub.async_call_later(0.01, lambda: fired.append("b"))
    cancel()
    await asyncio.sleep(0.05)
    assert fired == ["a"]


async def test_interval_skips_a_tick_while_the_previous_run_is_busy(hub: Hub) -> None:
    started = 0

    async def slow() -> None:
        nonlocal started
        started += 1
        await asyncio.sleep(0.12)

    cancel = hub.async_track_interval(slow, 0.05, "slow job")
    await asyncio.sleep(0.33)
    cancel()
    await hub.async_block_till_done()
    assert 2 <= started <= 3


async def test_executor_runs_blocking_work_off_the_loop(hub: Hub) -> None:
    loop_thread = threading.get_ident()
    worker = await hub.async_add_executor_job(threading.get_ident)
    assert worker != loop_thread


async def test_stop_runs_callbacks_in_stage_order_and_cancels_timers(tmp_path) -> None:
    hub = Hub(tmp_path)
    order: list[str] = []

    async def recorder_flush() -> None:
        order.append("recorder")

    hub.async_on_stop(recorder_flush, StopStage.RECORDER)
    hub.async_on_stop(lambda: order.append("http"), StopStage.HTTP)
    hub.async_on_stop(lambda: order.append("integration"))
    hub.bus.async_listen(EVENT_HUB_STOP, lambda _e: order.append("stop event"))
    fired: list[int] = []
    hub.async_call_later(10, lambda: fired.append(1))
    await hub.async_start()
    assert hub.state is HubState.RUNNING
    await hub.async_stop()
    assert order == ["stop event", "http", "integration", "recorder"]
    assert hub.state is HubState.STOPPED
    assert not hub._timers
    assert fired == []


async def test_stop_started_as_a_hub_task_completes(tmp_path) -> None:
    """A signal handler stops the hub through a hub task; stop must not wait for itself."""
    hub = Hub(tmp_path)
    await hub.async_start()
    hub.async_create_task(hub.async_stop())
    assert await asyncio.wait_for(hub.async_wait_stopped(), 5) == 0
    assert hub.state is HubState.STOPPED


async def test_a_step_added_during_stop_still_runs(tmp_path) -> None:
    from plantpulse.core.storage import Store

    hub = Hub(tmp_path)
    store = Store(hub, "late", 1)

    def last_words() -> None:
        store.async_delay_save(lambda: {"said": True}, delay=60)

    hub.async_on_stop(last_words, StopStage.INTEGRATIONS)
    await hub.async_stop()
    assert store.load() == {"said": True}
