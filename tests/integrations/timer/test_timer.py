"""timer: countdowns on the hub clock, their services and events, and restarts mid-run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Event
from plantpulse.core.exceptions import ServiceValidationError

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COOLDOWN = "timer.furnace_cooldown"

CONFIG = """
timer:
  furnace_cooldown:
    name: 炉子冷却
    duration: "00:30:00"
    restore: true
  purge:
    duration: 90
"""


def record(hub, *event_types: str) -> list[Event]:
    events: list[Event] = []
    for event_type in event_types:
        hub.bus.async_listen(event_type, events.append)
    return events


async def call(hub, service: str, entity_id: str = COOLDOWN, **data: object) -> None:
    await hub.services.async_call("timer", service, {"entity_id": entity_id, **data})


async def test_a_timer_counts_down_on_the_hub_clock(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    events = record(hub, "timer.started", "timer.finished")
    state = hub.states.get(COOLDOWN)
    assert state.state == "idle"
    assert state.attributes == {"duration": "0:30:00", "restore": True, "friendly_name": "炉子冷却"}
    assert hub.states.get("timer.purge").attributes == {"duration": "0:01:30"}

    await call(hub, "start")
    state = hub.states.get(COOLDOWN)
    assert state.state == "active"
    assert state.attributes["remaining"] == "0:30:00"
    assert state.attributes["finishes_at"] == "2026-03-02T09:30:00+00:00"
    assert [(event.event_type, event.data) for event in events] == [
        ("timer.started", {"entity_id": COOLDOWN}),
    ]

    await clock.advance(30 * 60 - 1)
    assert hub.states.get(COOLDOWN).state == "active"
    await clock.advance(1)
    assert hub.states.get(COOLDOWN).state == "idle"
    assert "finishes_at" not in hub.states.get(COOLDOWN).attributes
    assert events[-1].event_type == "timer.finished"
    assert events[-1].data == {"entity_id": COOLDOWN, "finished_at": "2026-03-02T09:30:00+00:00"}


async def test_pause_keeps_the_time_left_and_start_continues(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    events = record(hub, "timer.paused", "timer.restarted", "timer.finished")
    await call(hub, "start")
    await clock.advance(600)
    await call(hub, "pause")
    state = hub.states.get(COOLDOWN)
    assert (state.state, state.attributes["remaining"]) == ("paused", "0:20:00")
    assert "finishes_at" not in state.attributes

    await clock.advance(3600)
    assert hub.states.get(COOLDOWN).state == "paused"
    await call(hub, "start")
    assert hub.states.get(COOLDOWN).attributes["finishes_at"] == "2026-03-02T10:30:00+00:00"
    await clock.advance(1200)
    assert [event.event_type for event in events] == [
        "timer.paused", "timer.restarted", "timer.finished",
    ]


async def test_cancel_stops_without_finishing(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    events = record(hub, "timer.cancelled", "timer.finished")
    await call(hub, "start")
    await clock.advance(60)
    await call(hub, "cancel")
    await clock.advance(3600)
    assert hub.states.get(COOLDOWN).state == "idle"
    assert [event.event_type for event in events] == ["timer.cancelled"]


async def test_start_with_a_duration_runs_once_with_it(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    await call(hub, "start", duration="00:00:45")
    assert hub.states.get(COOLDOWN).attributes["duration"] == "0:00:45"
    await clock.advance(45)
    state = hub.states.get(COOLDOWN)
    assert (state.state, state.attributes["duration"]) == ("idle", "0:30:00")


async def test_change_moves_the_end_within_the_duration(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    events = record(hub, "timer.changed", "timer.finished")
    with pytest.raises(ServiceValidationError, match="only an active timer changes"):
        await call(hub, "change", duration=60)
    await call(hub, "start")
    await clock.advance(300)
    with pytest.raises(ServiceValidationError, match="cannot run longer than its duration"):
        await call(hub, "change", duration="00:06:00")
    await call(hub, "change", duration="-00:20:00")
    state = hub.states.get(COOLDOWN)
    assert state.attributes["remaining"] == "0:05:00"
    assert state.attributes["finishes_at"] == "2026-03-02T09:10:00+00:00"
    await clock.advance(300)
    assert [event.event_type for event in events] == ["timer.changed", "timer.finished"]


async def test_finish_ends_it_now(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    events = record(hub, "timer.finished")
    await call(hub, "start", entity_id="timer.purge")
    await clock.advance(10)
    await call(hub, "finish", entity_id="timer.purge")
    assert hub.states.get("timer.purge").state == "idle"
    assert events[0].data["finished_at"] == "2026-03-02T09:00:10+00:00"
    await clock.advance(600)
    assert len(events) == 1


async def test_an_active_timer_finishes_at_its_wall_time_after_a_restart(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    await call(hub, "start")
    await call(hub, "start", entity_id="timer.purge")  # restore: false
    await clock.advance(600)
    await hub.async_stop()
    await clock.advance(300)

    again = await hub_factory(CONFIG, config_dir=hub.config_dir, clock=clock)
    events = record(again, "timer.finished")
    state = again.states.get(COOLDOWN)
    assert state.state == "active"
    assert state.attributes["finishes_at"] == "2026-03-02T09:30:00+00:00"
    assert state.attributes["remaining"] == "0:15:00"
    assert again.states.get("timer.purge").state == "idle"

    await clock.advance_to(START + timedelta(minutes=30) - timedelta(seconds=1))
    assert again.states.get(COOLDOWN).state == "active"
    await clock.advance(1)
    assert again.states.get(COOLDOWN).state == "idle"
    assert [event.data["finished_at"] for event in events] == ["2026-03-02T09:30:00+00:00"]


async def test_a_timer_that_ended_while_stopped_finishes_once_the_hub_starts(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    await call(hub, "start")
    await hub.async_stop()
    await clock.advance(3600)

    again = await hub_factory(CONFIG, config_dir=hub.config_dir, clock=clock, start=False)
    events = record(again, "timer.finished")
    await again.async_block_till_done()
    assert again.states.get(COOLDOWN).state == "active"
    await again.async_start()
    assert again.states.get(COOLDOWN).state == "idle"
    assert [event.data for event in events] == [
        {"entity_id": COOLDOWN, "finished_at": "2026-03-02T09:30:00+00:00"},
    ]


async def test_a_paused_timer_stays_paused_across_a_restart(hub_factory) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(CONFIG, clock=clock)
    await call(hub, "start", duration=1200)
    await clock.advance(200)
    await call(hub, "pause")
    await hub.async_stop()
    await clock.advance(7200)

    again = await hub_factory(CONFIG, config_dir=hub.config_dir, clock=clock)
    state = again.states.get(COOLDOWN)
    assert (state.state, state.attributes["remaining"], state.attributes["duration"]) == (
        "paused", "0:16:40", "0:20:00",
    )
    await call(again, "start")
    await clock.advance(1000)
    assert again.states.get(COOLDOWN).state == "idle"
