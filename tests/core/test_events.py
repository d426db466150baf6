"""The event bus: delivery order, re-entrancy, listener kinds, errors, contexts."""

from __future__ import annotations

import asyncio
import logging

import pytest

from plantpulse.core.const import MATCH_ALL
from plantpulse.core.events import Context, Event, new_ulid
from plantpulse.core.hub import Hub


async def test_listener_receives_event_with_data_and_context(hub: Hub) -> None:
    seen: list[Event] = []
    hub.bus.async_listen("meter_read", seen.append)
    context = Context(user_id="u1")
    hub.bus.async_fire("meter_read", {"kwh": 12.5}, context=context)
    assert len(seen) == 1
    assert seen[0].data == {"kwh": 12.5}
    assert seen[0].context is context
    assert seen[0].as_dict()["context"] == {"id": context.id, "parent_id": None, "user_id": "u1"}


async def test_events_fired_by_listeners_are_delivered_in_firing_order(hub: Hub) -> None:
    order: list[str] = []

    def first(event: Event) -> None:
        order.append(f"first:{event.event_type}")
        if event.event_type == "a":
            hub.bus.async_fire("b")

    def second(event: Event) -> None:
        order.append(f"second:{event.event_type}")

    for event_type in ("a", "b"):
        hub.bus.async_listen(event_type, first)
        hub.bus.async_listen(event_type, second)
    hub.bus.async_fire("a")
    assert order == ["first:a", "second:a", "first:b", "second:b"]


async def test_listen_once_and_remove(hub: Hub) -> None:
    once: list[Event] = []
    always: list[Event] = []
    hub.bus.async_listen_once("tick", once.append)
    remove = hub.bus.async_listen("tick", always.append)
    hub.bus.async_fire("tick")
    hub.bus.async_fire("tick")
    remove()
    hub.bus.async_fire("tick")
    assert (len(once), len(always)) == (1, 2)
    assert hub.bus.async_listeners() == {}


async def test_listener_removing_itself_during_delivery(hub: Hub) -> None:
    calls: list[str] = []
    remove_a = None

    def a(_event: Event) -> None:
        calls.append("a")
        remove_a()

    remove_a = hub.bus.async_listen("x", a)
    hub.bus.async_listen("x", lambda _e: calls.append("b"))
    hub.bus.async_fire("x")
    hub.bus.async_fire("x")
    assert calls == ["a", "b", "b"]


async def test_coroutine_listener_runs_as_task(hub: Hub) -> None:
    done = asyncio.Event()

    async def listener(event: Event) -> None:
        await asyncio.sleep(0)
        done.set()

    hub.bus.async_listen("x", listener)
    hub.bus.async_fire("x")
    await hub.async_block_till_done()
    assert done.is_set()


async def test_failing_listener_is_isolated(hub: Hub, caplog: pytest.LogCaptureFixture) -> None:
    seen: list[Event] = []

    def broken(_event: Event) -> None:
        raise ValueError("boom")

    hub.bus.async_listen("x", broken)
    hub.bus.async_listen("x", seen.append)
    with caplog.at_level(logging.ERROR):
        hub.bus.async_fire("x")
    assert len(seen) == 1
    assert "boom" in caplog.text


async def test_match_all_and_filter(hub: Hub) -> None:
    everything: list[str] = []
    filtered: list[int] = []
    hub.bus.async_listen(MATCH_ALL, lambda e: everything.append(e.event_type))
    hub.bus.async_listen("n", lambda e: filtered.append(e.data["v"]),
                         event_filter=lambda e: e.data["v"] > 1)
    for value in range(3):
        hub.bus.async_fire("n", {"v": value})
    hub.bus.async_fire("other")
    assert everything == ["n", "n", "n", "other"]
    assert filtered == [2]


def test_context_id_is_lazy_ulid_and_sortable() -> None:
    context = Context()
    assert context._id is None
    assert len(context.id) == 26
    first = new_ulid(1_700_000_000.0)
    later = new_ulid(1_700_000_001.0)
    assert first < later
