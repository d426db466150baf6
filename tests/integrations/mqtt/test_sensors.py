"""MQTT sensors and binary sensors from YAML against a real mosquitto: JSON paths, templates,
attributes, availability, expiry, garbage payloads and source timestamps."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import aiomqtt
import pytest

from tests.integrations.mqtt.conftest import Broker, state_of, wait_until

SENSORS = """
  sensor:
    - name: 一号空压机 功率
      unique_id: compressor1_power
      state_topic: gateway/compressor1/state
      value_template: "{{ value_json.power }}"
      unit_of_measurement: kW
      device_class: power
      state_class: measurement
      json_attributes_topic: gateway/compressor1/state
      json_attributes_template: "{{ value_json.info | tojson }}"
    - name: Compressor energy
      state_topic: gateway/compressor1/state
      json_path: meters[0]["total.kwh"]
      unit_of_measurement: kWh
      state_class: total_increasing
    - name: Compressor mode
      state_topic: gateway/compressor1/mode
  binary_sensor:
    - name: Compressor running
      state_topic: gateway/compressor1/running
      payload_on: "1"
      payload_off: "0"
      device_class: running
"""
POWER = "sensor.yi_hao_kong_ya_ji_gong_lv"
ENERGY = "sensor.compressor_energy"
MODE = "sensor.compressor_mode"
RUNNING = "binary_sensor.compressor_running"


async def test_values_from_json_paths_and_templates(broker: Broker, gateway, hub_factory) -> None:
    hub = await hub_factory(broker.yaml(SENSORS))
    assert state_of(hub, POWER) == "unknown"
    await wait_until(lambda: hub.data["mqtt"].connected)
    await gateway.publish("gateway/compressor1/state", json.dumps({
        "power": 37.5, "meters": [{"total.kwh": 120345.25}], "info": {"fw": "2.1", "rssi": -61},
    }))
    await gateway.publish("gateway/compressor1/mode", "加载")
    await gateway.publish("gateway/compressor1/running", "1")
    await wait_until(lambda: state_of(hub, RUNNING) == "on")
    power = hub.states.get(POWER)
    assert power.state == "37.5"
    assert power.attributes == {
        "fw": "2.1", "rssi": -61, "state_class": "measurement", "unit_of_measurement": "kW",
        "device_class": "power", "friendly_name": "一号空压机 功率",
    }
    assert state_of(hub, ENERGY) == "120345.25"
    assert state_of(hub, MODE) == "加载"
    await gateway.publish("gateway/compressor1/running", "0")
    await wait_until(lambda: state_of(hub, RUNNING) == "off")


async def test_garbage_payloads_are_logged_once_and_the_last_value_stays(
    broker: Broker, gateway, hub_factory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_factory(broker.yaml(SENSORS))
    await wait_until(lambda: hub.data["mqtt"].connected)
    topic = "gateway/compressor1/state"
    await gateway.publish(topic, json.dumps({"power": 12, "meters": [{"total.kwh": 5}]}))
    await wait_until(lambda: state_of(hub, POWER) == "12")
    caplog.clear()
    for garbage in (b'{"power": "ERR", "meters": []}', b"\xff\xfe\x00", b"not json at all",
                    b'{"power": NaN}', b'{"power": true}'):
        await gateway.publish(topic, garbage)
    await gateway.publish("gateway/compressor1/running", "maybe")
    await gateway.publish("gateway/compressor1/mode", "x" * 300)
    await gateway.publish("gateway/compressor1/mode", "standby")
    await wait_until(lambda: state_of(hub, MODE) == "standby")
    assert state_of(hub, POWER) == "12"
    assert state_of(hub, ENERGY) == "5"
    assert state_of(hub, RUNNING) == "unknown"
    warnings = [record.getMessage() for record in caplog.records
                if record.levelno == logging.WARNING]
    assert len([line for line in warnings if line.startswith(POWER)]) == 1
    assert "'ERR' is not a number" in next(line for line in warnings if line.startswith(POWER))
    assert len([line for line in warnings if line.startswith(ENERGY)]) == 1
    assert any("neither payload_on '1' nor payload_off '0'" in line for line in warnings)
    assert any(line.startswith(MODE) and "300 characters" in line for line in warnings)
    # A good value ends the streak: the next garbage is a warning again.
    await gateway.publish(topic, json.dumps({"power": 13, "meters": [{"total.kwh": 6}]}))
    await wait_until(lambda: state_of(hub, POWER) == "13")
    caplog.clear()
    await gateway.publish(topic, b'{"power": "--"}')
    await gateway.publish("gateway/compressor1/mode", "idle")
    await wait_until(lambda: state_of(hub, MODE) == "idle")
    assert [record.levelno for record in caplog.records
            if record.getMessage().startswith(POWER)] == [logging.WARNING]
