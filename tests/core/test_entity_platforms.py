"""Entity platforms: switch, number, button services by target; sensors; availability; polling."""

from __future__ import annotations

import asyncio

import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.platforms.binary_sensor import BinarySensorEntity
from plantpulse.core.platforms.button import ButtonEntity
from plantpulse.core.platforms.number import NumberEntity
from plantpulse.core.platforms.sensor import SensorEntity, StateClass
from plantpulse.core.platforms.switch import SwitchEntity


class Contactor(SwitchEntity):
    def __init__(self, key: str, area: str) -> None:
        self._attr_unique_id = key
        self._attr_name = key.replace("_", " ")
        self._attr_is_on = False
        self._attr_device_info = {"identifiers": [("t", key)], "name": key,
                                  "suggested_area": area}

    async def async_turn_on(self) -> None:
        self._attr_is_on = True

    async def async_turn_off(self) -> None:
        self._attr_is_on = False


class Setpoint(NumberEntity):
    _attr_unique_id = "setpoint"
    _attr_name = "Load limit"
    _attr_native_value = 40.0
    _attr_native_min_value = 0
    _attr_native_max_value = 100
    _attr_native_unit_of_measurement = "kW"

    async def async_set_native_value(self, value: float) -> None:
        self._attr_native_value = value


class ResetButton(ButtonEntity):
    _attr_unique_id = "reset"
    _attr_name = "Reset counter"
    presses = 0

    async def async_press(self) -> None:
        self.presses += 1


async def test_switch_services_by_entity_area_and_all(hub: Hub) -> None:
    await hub.entities.async_add("t", [Contactor("fan_a", "Workshop 1"),
                                       Contactor("fan_b", "Workshop 2")])
    await hub.services.async_call("switch", "turn_on", {"entity_id": "switch.fan_a"})
    assert hub.states.get("switch.fan_a").state == "on"
    assert hub.states.get("switch.fan_b").state == "off"
    await hub.services.async_call("switch", "toggle", {"area_id": "workshop_2"})
    assert hub.states.get("switch.fan_b").state == "on"
    await hub.services.async_call("switch", "turn_off", {"entity_id": "all"})
    assert {s.state for s in hub.states.all("switch")} == {"off"}


async def test_number_bounds_and_button(hub: Hub) -> None:
    button = ResetButton()
    await hub.entities.async_add("t", [Setpoint(), button])
    await hub.services.async_call("number", "set_value",
                                  {"entity_id": "number.load_limit", "value": 42})
    state = hub.states.get("number.load_limit")
    assert (state.state, state.attributes["unit_of_measurement"]) == ("42.0", "kW")
    with pytest.raises(ServiceValidationError):
        await hub.services.async_call("number", "set_value", {"entity_id": "number.load_limit"})
    with pytest.raises(ServiceValidationError, match=r"500\.0 is outside 0\.\.100"):
        await hub.services.async_call("number", "set_value",
                                      {"entity_id": "number.load_limit", "value": 500})
    assert hub.states.get("button.reset_counter").state == "unknown"
    await hub.services.async_call("button", "press", {"entity_id": "button.reset_counter"})
    assert button.presses == 1
    assert hub.states.get("button.reset_counter").state.endswith("+00:00")


class Power(SensorEntity):
    _attr_name = "Line power"
    _attr_native_unit_of_measurement = "kW"
    _attr_state_class = StateClass.MEASUREMENT
    _attr_device_class = "power"
    _attr_should_poll = True
    reading: float | None = 10.0

    async def async_update(self) -> None:
        if self.reading is None:
            self._attr_available = False
        else:
            self._attr_available = True
            self._attr_native_value = self.reading


async def test_sensor_attributes_polling_and_unavailable(hub: Hub) -> None:
    sensor = Power()
    await hub.entities.async_add("t", [sensor], scan_interval=0.02)
    state = hub.states.get("sensor.line_power")
    assert state.state == "unknown"
    assert dict(state.attributes) == {
        "state_class": "measurement", "unit_of_measurement": "kW",
        "device_class": "power", "friendly_name": "Line power",
    }
    await asyncio.sleep(0.05)
    assert hub.states.get("sensor.line_power").state == "10.0"
    sensor.reading = None
    await asyncio.sleep(0.05)
    assert hub.states.get("sensor.line_power").state == "unavailable"
    await hub.entities.async_remove("sensor.line_power")
    assert hub.states.get("sensor.line_power") is None


async def test_binary_sensor_and_precision(hub: Hub) -> None:
    class Running(BinarySensorEntity):
        _attr_name = "Mill running"
        _attr_is_on = True

    class Rounded(SensorEntity):
        _attr_name = "Rounded"
        _attr_native_value = 1.23456
        _attr_suggested_display_precision = 2

    await hub.entities.async_add("t", [Running(), Rounded()])
    assert hub.states.get("binary_sensor.mill_running").state == "on"
    assert hub.states.get("sensor.rounded").state == "1.23"


async def test_same_names_in_one_batch_and_a_failing_entity(hub: Hub) -> None:
    class Named(SensorEntity):
        _attr_name = "Flow"
        _attr_native_value = 1

    class Broken(SensorEntity):
        _attr_name = "Broken"
        removed = False

        async def async_added_to_hub(self) -> None:
            self.async_on_remove(self._mark_removed)
            raise RuntimeError("cannot subscribe")

        def _mark_removed(self) -> None:
            self.removed = True

    broken = Broken()
    added = await hub.entities.async_add("t", [Named(), Named(), broken])
    assert [entity.entity_id for entity in added] == ["sensor.flow", "sensor.flow_2"]
    assert broken.removed
    assert hub.entities.get("sensor.broken") is None
