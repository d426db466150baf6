"""counter: counting within bounds, reset, set_value, and restore with the `restore` option."""

from __future__ import annotations

import pytest

from plantpulse.core.exceptions import ServiceValidationError

CONFIG = """
counter:
  rejected_parts:
    name: 不良品计数
    initial: 2
    step: 2
    minimum: 0
    maximum: 10
  door_openings:
  shift_starts:
    initial: 5
    restore: false
"""

PARTS = "counter.rejected_parts"


async def call(hub, service: str, entity_id: str = PARTS, **data: object) -> None:
    await hub.services.async_call("counter", service, {"entity_id": entity_id, **data})


def count(hub, entity_id: str = PARTS) -> str:
    return hub.states.get(entity_id).state


async def test_counts_and_attributes(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    assert count(hub) == "2"
    assert hub.states.get(PARTS).attributes == {
        "initial": 2, "step": 2, "minimum": 0, "maximum": 10, "friendly_name": "不良品计数",
    }
    assert count(hub, "counter.door_openings") == "0"
    assert hub.states.get("counter.door_openings").attributes == {"initial": 0, "step": 1}

    await call(hub, "increment")
    await call(hub, "increment")
    assert count(hub) == "6"
    await call(hub, "decrement")
    assert count(hub) == "4"
    await call(hub, "decrement", "counter.door_openings")
    assert count(hub, "counter.door_openings") == "-1"
    await call(hub, "reset")
    assert count(hub) == "2"


async def test_counting_stops_at_the_bounds_and_set_value_respects_them(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "set_value", value=9)
    await call(hub, "increment")
    assert count(hub) == "10"
    await call(hub, "set_value", value=1)
    await call(hub, "decrement")
    assert count(hub) == "0"
    with pytest.raises(ServiceValidationError, match="11 is outside the bounds"):
        await call(hub, "set_value", value=11)
    assert count(hub) == "0"


async def test_restore_keeps_counts_unless_restore_is_false(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "set_value", value=8)
    await call(hub, "increment", "counter.shift_starts")
    await hub.async_stop()

    again = await hub_factory(CONFIG, config_dir=hub.config_dir)
    assert count(again) == "8"
    assert count(again, "counter.shift_starts") == "5"
    await again.async_stop()

    lower = await hub_factory(CONFIG.replace("maximum: 10", "maximum: 6"),
                              config_dir=hub.config_dir)
    assert count(lower) == "6"


async def test_bounds_must_make_sense(hub_factory) -> None:
    hub = await hub_factory("counter:\n  a:\n    minimum: 5\n    maximum: 5\n"
                            "  b:\n    initial: 20\n    maximum: 10\n")
    assert hub.states.entity_ids("counter") == []
    messages = " ".join(str(issue) for issue in hub.config_issues)
    assert "'minimum' (5) must be less than 'maximum' (5)" in messages
    assert "'initial' (20) must be between minimum and maximum" in messages
