"""MQTT sensors and binary sensors from YAML against a real mosquitto: JSON paths, templates,
attributes, availability, expiry, garbage payloads and source timestamps."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.const import EVENT_STATE_BACKFILLED
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


# 17:00 in Shanghai on Monday 2 March 2026.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
METERS = """
  sensor:
    - name: Meter 1 energy
      state_topic: gateway/meter1
      json_path: kwh
      timestamp_path: ts
      unit_of_measurement: kWh
      state_class: total_increasing
      expire_after: 300
    - name: Meter 2 energy
      state_topic: gateway/meter2
      value_template: "{{ value_json.data.kwh }}"
      timestamp_template: "{{ value_json.data.time }}"
      unit_of_measurement: kWh
      state_class: total_increasing
  binary_sensor:
    - name: Door
      state_topic: gateway/door
      off_delay: 10
      availability:
        - topic: gateway/status
        - topic: gateway/door/status
          payload_available: "1"
          payload_not_available: "0"
      availability_mode: all
"""


async def test_timestamped_payloads_keep_their_source_time(
    broker: Broker, gateway, hub_factory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_factory(broker.yaml(METERS), clock=ManualClock(NOW))
    late = []
    hub.bus.async_listen(EVENT_STATE_BACKFILLED, late.append)
    await wait_until(lambda: hub.data["mqtt"].connected)
    meter = "sensor.meter_1_energy"
    await gateway.publish("gateway/meter1", json.dumps(
        {"kwh": 100.5, "ts": "2026-03-02T16:55:00+08:00"}))
    await wait_until(lambda: state_of(hub, meter) == "100.5")
    assert hub.states.get(meter).measured_timestamp == datetime(
        2026, 3, 2, 8, 55, tzinfo=UTC).timestamp()
    # Buffered data from before the current value: filed under its own time, state unchanged.
    ten_to = datetime(2026, 3, 2, 8, 50, tzinfo=UTC)
    await gateway.publish("gateway/meter1", json.dumps(
        {"kwh": 100.25, "ts": int(ten_to.timestamp() * 1000)}))  # epoch milliseconds
    await wait_until(lambda: len(late) == 1)
    assert late[0].data["state"].state == "100.25"
    assert late[0].data["state"].measured_timestamp == ten_to.timestamp()
    assert state_of(hub, meter) == "100.5"
    # ISO text without an offset is site time (Asia/Shanghai).
    await gateway.publish("gateway/meter1", json.dumps({"kwh": 101, "ts": "2026-03-02 17:00"}))
    await wait_until(lambda: state_of(hub, meter) == "101")
    assert hub.states.get(meter).measured_timestamp == NOW.timestamp()
    # A source clock an hour ahead is not believed: the value counts as received now.
    await gateway.publish("gateway/meter1", json.dumps(
        {"kwh": 102, "ts": "2026-03-02T18:00:00+08:00"}))
    await wait_until(lambda: state_of(hub, meter) == "102")
    assert hub.states.get(meter).measured_timestamp is None
    assert "is in the future" in caplog.text
    # A template may give epoch seconds.
    await gateway.publish("gateway/meter2", json.dumps(
        {"data": {"kwh": 7.5, "time": NOW.timestamp() - 60}}))
    await wait_until(lambda: state_of(hub, "sensor.meter_2_energy") == "7.5")
    assert hub.states.get("sensor.meter_2_energy").measured_timestamp == NOW.timestamp() - 60
    # A payload whose time cannot be read is ignored like any garbage.
    await gateway.publish("gateway/meter1", json.dumps({"kwh": 103, "ts": "yesterday"}))
    await gateway.publish("gateway/meter2", json.dumps(
        {"data": {"kwh": 8, "time": NOW.timestamp()}}))
    await wait_until(lambda: state_of(hub, "sensor.meter_2_energy") == "8")
    assert state_of(hub, meter) == "102"
    assert "'yesterday' is not a time" in caplog.text


async def test_expire_after_and_off_delay_follow_the_hub_clock(
    broker: Broker, gateway, hub_factory
) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(broker.yaml(METERS), clock=clock)
    await wait_until(lambda: hub.data["mqtt"].connected)
    meter = "sensor.meter_1_energy"
    await gateway.publish("gateway/meter1", json.dumps({"kwh": 5, "ts": NOW.isoformat()}))
    await wait_until(lambda: state_of(hub, meter) == "5")
    await clock.advance(299)
    assert state_of(hub, meter) == "5"
    await clock.advance(2)
    assert state_of(hub, meter) == "unavailable"
    await gateway.publish("gateway/meter1", json.dumps({"kwh": 6, "ts": NOW.isoformat()}))
    await wait_until(lambda: state_of(hub, meter) == "6")


async def test_availability_mode_all_and_off_delay(broker: Broker, gateway, hub_factory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(broker.yaml(METERS), clock=clock)
    door = "binary_sensor.door"
    assert state_of(hub, door) == "unavailable"
    await wait_until(lambda: hub.data["mqtt"].connected)
    await gateway.publish("gateway/status", "online", retain=True)
    await gateway.publish("gateway/door", "ON")
    await gateway.publish("gateway/door/status", "0")
    await wait_until(lambda: hub.entities.get(door)._attr_is_on is True)
    assert state_of(hub, door) == "unavailable"  # one of two topics says not available
    await gateway.publish("gateway/door/status", "1")
    await wait_until(lambda: state_of(hub, door) == "on")
    await clock.advance(10)
    assert state_of(hub, door) == "off"
    await gateway.publish("gateway/status", "offline")
    await wait_until(lambda: state_of(hub, door) == "unavailable")
