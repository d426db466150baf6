"""The hub clock: a manual clock moves states, timers, intervals and sleeps together."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from plantpulse.core.clock import ManualClock, SystemClock
from plantpulse.core.hub import Hub

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_manual_clock_drives_states_timers_and_intervals(tmp_path: Path) -> None:
    clock = ManualClock(START)
    hub = Hub(tmp_path, clock=clock)
    fired: list[datetime] = []
    hub.async_call_later(timedelta(minutes=10), lambda: fired.append(clock.now()))
    hub.async_call_at(START + timedelta(hours=8), lambda: fired.append(clock.now()))
    ticks: list[float] = []
    hub.async_track_interval(lambda: ticks.append(clock.time()), 60, "minute job")

    state = hub.states.async_set("sensor.line_load", "12")
    assert state.last_updated == START

    await clock.advance(3600)
    assert fired == [START + timedelta(minutes=10)]
    assert len(ticks) == 60
    assert ticks[0] == START.timestamp() + 60
    await clock.advance_to(START + timedelta(hours=9))
    assert fired[-1] == START + timedelta(hours=8)
    assert hub.states.async_set("sensor.line_load", "45").last_changed == START + timedelta(
        hours=9)
    await hub.async_stop()


async def test_sleep_follows_the_clock(tmp_path: Path) -> None:
    clock = ManualClock(START)
    woke: list[datetime] = []

    async def sleeper() -> None:
        await clock.sleep(300)
        woke.append(clock.now())
        await clock.sleep(300)
        woke.append(clock.now())

    task = asyncio.create_task(sleeper())
    await clock.advance(1000)
    await task
    assert woke == [START + timedelta(seconds=300), START + timedelta(seconds=600)]
    assert clock.now() == START + timedelta(seconds=1000)


async def test_system_clock_timer_fires_at_wall_time() -> None:
    clock = SystemClock()
    fired = asyncio.Event()
    clock.call_at(clock.time() + 0.02, fired.set)
    cancelled: list[int] = []
    cancel = clock.call_later(0.01, lambda: cancelled.append(1))
    cancel()
    await asyncio.wait_for(fired.wait(), 1)
    await asyncio.sleep(0.02)
    assert cancelled == []
