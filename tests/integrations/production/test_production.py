"""Production entry: outputs as total_increasing sensors, quantities and counter readings at
their own time, checks, restore."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from tests.conftest import HubFactory

CONFIG = """
plantpulse:
  time_zone: Asia/Shanghai
recorder:
  commit_interval: 0
  auto_purge: false
production:
  line1_clinker:
    name: 1号线熟料产量
    product: clinker
    scope: line
    target: line_1
  team_a_bags:
    product: cement bags
    unit: bags
    scope: team
"""
NOW = datetime(2024, 3, 2, 8, 0, tzinfo=UTC)  # 16:00 in Shanghai


async def record(hub: Hub, **data: object) -> None:
    await hub.services.async_call("production", "record",
                                  {"entity_id": "sensor.line1_clinker", **data})


def value(hub: Hub, entity_id: str = "sensor.line1_clinker") -> str:
    state = hub.states.get(entity_id)
    assert state is not None
    return state.state


async def test_outputs_are_total_increasing_sensors(hub_factory: HubFactory) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    state = hub.states.get("sensor.line1_clinker")
    assert state is not None and state.attributes == {
        "state_class": "total_increasing", "unit_of_measurement": "t", "product": "clinker",
        "scope": "line", "target": "line_1", "friendly_name": "1号线熟料产量"}
    assert hub.states.get("sensor.team_a_bags").attributes["unit_of_measurement"] == "bags"


async def test_quantities_add_up_and_a_late_one_moves_later_entries(
        hub_factory: HubFactory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(CONFIG, clock=clock)
    await record(hub, quantity=100, time="2024-03-02T08:00:00+08:00")
    await record(hub, quantity=120)  # 16:00
    assert value(hub) == "220.0"
    rec = get_recorder(hub)
    assert rec is not None
    # committed before the late entry rewrites the 16:00 row, as with a person entering it
    # later (the recorder's writer can put an earlier row for the same time after a later
    # one when both wait in one batch)
    await rec.async_flush()
    await clock.advance(60)
    await record(hub, quantity=30, time="2024-03-02T12:00:00+08:00")  # entered late
    assert value(hub) == "250.0"
    await rec.async_flush()
    history = await rec.async_get_history(["sensor.line1_clinker"],
                                          datetime(2024, 3, 1, 23, tzinfo=UTC))
    assert [(row["state"], row["last_updated"]) for row in history["sensor.line1_clinker"]] == [
        ("100.0", "2024-03-02T00:00:00+00:00"), ("130.0", "2024-03-02T04:00:00+00:00"),
        ("250.0", "2024-03-02T08:00:00+00:00")]


async def test_counter_readings_and_checks(hub_factory: HubFactory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(CONFIG, clock=clock)
    await record(hub, counter=5000, time="2024-03-02T08:00:00+08:00")
    await record(hub, counter=5400)
    assert value(hub) == "5400.0"
    await clock.advance(60)
    with pytest.raises(ServiceValidationError, match="below the previous entry 5400"):
        await record(hub, counter=5300)
    with pytest.raises(ServiceValidationError, match="above the later entry 5400"):
        await record(hub, counter=5500, time="2024-03-02T12:00:00+08:00")
    with pytest.raises(ServiceValidationError, match="must be a number >= 0"):
        await record(hub, quantity=-1)
    with pytest.raises(ServiceValidationError, match="give quantity"):
        await record(hub)
    with pytest.raises(ServiceValidationError):
        await record(hub, quantity=1, counter=2)
    with pytest.raises(ServiceValidationError, match="not a production output"):
        await hub.services.async_call("production", "record",
                                      {"entity_id": "sensor.x", "quantity": 1})
    await record(hub, quantity=10)
    assert value(hub) == "5410.0"


async def test_output_restored_after_restart(hub_factory: HubFactory, tmp_path: Path) -> None:
    folder = tmp_path / "plant"
    hub = await hub_factory(CONFIG, config_dir=folder, clock=ManualClock(NOW))
    await record(hub, quantity=100, time="2024-03-02T08:00:00+08:00")
    await hub.async_stop()
    hub = await hub_factory(CONFIG, config_dir=folder, clock=ManualClock(NOW))
    assert value(hub) == "100.0"
    await record(hub, quantity=5)
    assert value(hub) == "105.0"
