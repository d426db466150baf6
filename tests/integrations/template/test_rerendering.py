"""Template entities re-render only when what their templates read changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from plantpulse.core.template import async_register_template_function
from plantpulse.integrations import template

START = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)


class Plant:
    """A hub on a manual clock whose templates count their renders with `count('name')`."""

    def __init__(self, hub: Hub, clock: ManualClock) -> None:
        self.hub = hub
        self.clock = clock
        self.renders: dict[str, int] = {}
        async_register_template_function(hub, "count", self._count)

    def _count(self, name: str) -> str:
        self.renders[name] = self.renders.get(name, 0) + 1
        return ""

    async def add(self, *sensors: dict[str, str]) -> None:
        config = template.CONFIG_SCHEMA([{"sensor": list(sensors)}])
        assert await template.async_setup(self.hub, config)

    def state(self, entity_id: str) -> str:
        return self.hub.states.get(entity_id).state


@pytest.fixture
async def plant(tmp_path: Path) -> AsyncIterator[Plant]:
    clock = ManualClock(START)
    hub = Hub(tmp_path, clock=clock)
    await hub.entity_registry.async_load()
    await hub.async_start()
    yield Plant(hub, clock)
    await hub.async_stop()


async def test_only_changes_of_entities_read_cause_a_render(plant: Plant) -> None:
    await plant.add({"name": "Load", "state": "{{ count('load') }}{{ states('sensor.meter') }}"})
    assert plant.renders == {"load": 1}
    plant.hub.states.async_set("sensor.meter", "12")
    assert (plant.renders["load"], plant.state("sensor.load")) == (2, "12")
    plant.hub.states.async_set("sensor.other", "1")
    plant.hub.states.async_set("switch.fan", "on")
    assert plant.renders["load"] == 2
    plant.hub.states.async_set("sensor.meter", "12", {"unit_of_measurement": "kW"})
    assert plant.renders["load"] == 3  # an attribute change is a change too
    plant.hub.states.async_set("sensor.meter", "12", {"unit_of_measurement": "kW"})
    assert plant.renders["load"] == 3  # nothing changed: no event, no render


async def test_what_is_followed_changes_with_what_the_last_render_read(plant: Plant) -> None:
    source = ("{{ count('pick') }}{% if is_state('input_boolean.use_a', 'on') %}"
              "{{ states('sensor.a') }}{% else %}{{ states('sensor.b') }}{% endif %}")
    await plant.add({"name": "Pick", "state": source})
    plant.hub.states.async_set("sensor.a", "1")
    assert plant.renders["pick"] == 1
    plant.hub.states.async_set("sensor.b", "2")
    assert (plant.renders["pick"], plant.state("sensor.pick")) == (2, "2")

    plant.hub.states.async_set("input_boolean.use_a", "on")
    assert (plant.renders["pick"], plant.state("sensor.pick")) == (3, "1")
    plant.hub.states.async_set("sensor.b", "3")
    assert plant.renders["pick"] == 3
    plant.hub.states.async_set("sensor.a", "4")
    assert (plant.renders["pick"], plant.state("sensor.pick")) == (4, "4")


async def test_domain_templates_render_at_most_once_a_second(plant: Plant) -> None:
    await plant.add({"name": "Sensors on", "state": "{{ count('domain') }}"
                     "{{ states.sensor | selectattr('state', 'eq', 'on') | list | count }}"})
    assert (plant.renders["domain"], plant.state("sensor.sensors_on")) == (1, "0")
    for number in range(5):
        plant.hub.states.async_set(f"sensor.door_{number}", "on")
    plant.hub.states.async_set("switch.fan", "on")  # another domain: ignored
    assert plant.renders["domain"] == 1
    await plant.clock.advance(1)
    assert (plant.renders["domain"], plant.state("sensor.sensors_on")) == (2, "5")
    await plant.clock.advance(10)
    assert plant.renders["domain"] == 2  # its own state changes do not count

    await plant.clock.advance(5)
    plant.hub.states.async_set("sensor.door_0", "off")  # a second since the last render
    assert (plant.renders["domain"], plant.state("sensor.sensors_on")) == (3, "4")


async def test_all_states_templates_render_at_most_once_a_minute(plant: Plant) -> None:
    await plant.add({"name": "Entity count", "state": "{{ count('all') }}{{ states | count }}"})
    assert plant.state("sensor.entity_count") == "0"  # rendered before its own state existed
    plant.hub.states.async_set("switch.fan", "on")
    plant.hub.states.async_set("light.hall", "on")
    await plant.clock.advance(59)
    assert plant.renders["all"] == 1
    await plant.clock.advance(1)
    assert (plant.renders["all"], plant.state("sensor.entity_count")) == (2, "3")


async def test_time_templates_render_at_the_start_of_each_minute(plant: Plant) -> None:
    await plant.add({"name": "Minute", "state": "{{ count('time') }}{{ now().minute }}"})
    assert (plant.renders["time"], plant.state("sensor.minute")) == (1, "0")
    await plant.clock.advance(29)
    assert plant.renders["time"] == 1
    await plant.clock.advance(1)  # 09:01:00
    assert (plant.renders["time"], plant.state("sensor.minute")) == (2, "1")
    await plant.clock.advance(120)
    assert (plant.renders["time"], plant.state("sensor.minute")) == (4, "3")


async def test_time_is_no_longer_followed_once_a_render_does_not_read_it(plant: Plant) -> None:
    source = ("{{ count('maybe') }}{% if is_state('input_boolean.clock', 'on') %}"
              "{{ now().minute }}{% else %}off{% endif %}")
    plant.hub.states.async_set("input_boolean.clock", "on")
    await plant.add({"name": "Maybe", "state": source})
    await plant.clock.advance(30)
    assert plant.renders["maybe"] == 2
    plant.hub.states.async_set("input_boolean.clock", "off")
    await plant.clock.advance(600)
    assert (plant.renders["maybe"], plant.state("sensor.maybe")) == (3, "off")


async def test_a_template_reading_its_own_entity_does_not_loop(plant: Plant) -> None:
    await plant.add({"name": "Self ref",
                     "state": "{{ count('self') }}{{ states('sensor.self_ref') | int(0) + 1 }}"})
    await plant.hub.async_block_till_done()
    assert (plant.renders["self"], plant.state("sensor.self_ref")) == (1, "1")
