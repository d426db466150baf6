"""Home Assistant MQTT discovery against a real mosquitto, with payloads as gateways publish
them: abbreviations, `~`, devices in the registry, updates, removal, device-based discovery."""

from __future__ import annotations

import json

import pytest

from tests.integrations.mqtt.conftest import Broker, state_of, wait_until

# What a gateway in front of a CHINT DTSU666 meter publishes (retained), abbreviated.
POWER_CONFIG = {
    "~": "gw01/dtsu666_01",
    "name": "有功功率",
    "uniq_id": "dtsu666_01_power",
    "stat_t": "~/state",
    "val_tpl": "{{ value_json.P | float / 1000 }}",
    "unit_of_meas": "kW",
    "dev_cla": "power",
    "stat_cla": "measurement",
    "avty_t": "~/LWT",
    "pl_avail": "Online",
    "pl_not_avail": "Offline",
    "json_attr_t": "~/state",
    "json_attr_tpl": "{{ {'rssi': value_json.rssi} | tojson }}",
    "dev": {"ids": ["dtsu666_01"], "name": "一号进线电表", "mf": "CHINT", "mdl": "DTSU666",
            "sw": "1.2", "sa": "配电室"},
    "o": {"name": "gw-firmware", "sw": "3.1", "url": "https://example.com"},
}
ENERGY_CONFIG = {
    "name": "正向有功电能",
    "uniq_id": "dtsu666_01_import",
    "stat_t": "gw01/dtsu666_01/state",
    "val_tpl": "{{ value_json.Ep }}",
    "unit_of_meas": "kWh",
    "dev_cla": "energy",
    "stat_cla": "total_increasing",
    "dev": POWER_CONFIG["dev"],
}
POWER_TOPIC = "homeassistant/sensor/gw01/dtsu666_01_power/config"
ENERGY_TOPIC = "homeassistant/sensor/gw01/dtsu666_01_import/config"
POWER = "sensor.yi_hao_jin_xian_dian_biao_you_gong_gong_lv"
ENERGY = "sensor.yi_hao_jin_xian_dian_biao_zheng_xiang_you_gong_dian_neng"


async def test_a_gateway_announces_a_meter(broker: Broker, gateway, hub_factory) -> None:
    # Retained before the hub starts, as a gateway that booted first leaves it.
    await gateway.publish(POWER_TOPIC, json.dumps(POWER_CONFIG), retain=True)
    await gateway.publish(ENERGY_TOPIC, json.dumps(ENERGY_CONFIG), retain=True)
    await gateway.publish("gw01/dtsu666_01/LWT", "Online", retain=True)
    hub = await hub_factory(broker.yaml())
    await wait_until(lambda: hub.states.get(POWER) is not None
                     and hub.states.get(ENERGY) is not None)
    await gateway.publish("gw01/dtsu666_01/state", json.dumps(
        {"P": 41850, "Ep": 120345.6, "rssi": -67}))
    await wait_until(lambda: state_of(hub, ENERGY) == "120345.6")
    power = hub.states.get(POWER)
    assert power.state == "41.85"
    assert power.attributes == {
        "rssi": -67, "state_class": "measurement", "unit_of_measurement": "kW",
        "device_class": "power", "friendly_name": "一号进线电表 有功功率",
    }
    entity = hub.entities.get(POWER)
    device = hub.device_registry.get(entity.device_entry.id)
    assert (device.name, device.manufacturer, device.model, device.sw_version) == (
        "一号进线电表", "CHINT", "DTSU666", "1.2")
    assert ("mqtt", "dtsu666_01") in device.identifiers
    assert hub.area_registry.get(device.area_id).name == "配电室"
    assert hub.entities.get(ENERGY).device_entry.id == device.id  # one device, two entities
    await gateway.publish("gw01/dtsu666_01/LWT", "Offline", retain=True)
    await wait_until(lambda: state_of(hub, POWER) == "unavailable")
    assert state_of(hub, ENERGY) == "120345.6"  # no availability topic of its own


async def test_a_changed_config_replaces_the_entity_and_an_empty_one_removes_it(
    broker: Broker, gateway, hub_factory
) -> None:
    hub = await hub_factory(broker.yaml())
    await wait_until(lambda: hub.data["mqtt"].connected)
    await gateway.publish(POWER_TOPIC, json.dumps(POWER_CONFIG), retain=True)
    # Naming the device by its identifiers alone: the registry has the rest.
    await gateway.publish(ENERGY_TOPIC, json.dumps(
        {**ENERGY_CONFIG, "dev": {"ids": ["dtsu666_01"]}}), retain=True)
    await gateway.publish("gw01/dtsu666_01/state", json.dumps({"Ep": 10.5}), retain=True)
    await wait_until(lambda: state_of(hub, ENERGY) == "10.5")
    device = hub.entities.get(ENERGY).device_entry
    assert (device.name, device.model) == ("一号进线电表", "DTSU666")
    changed = {**ENERGY_CONFIG, "unit_of_meas": "MWh", "val_tpl": "{{ value_json.Ep / 1000 }}"}
    await gateway.publish(ENERGY_TOPIC, json.dumps(changed), retain=True)
    await wait_until(lambda: state_of(hub, ENERGY) == "0.0105")
    assert hub.states.get(ENERGY).attributes["unit_of_measurement"] == "MWh"
    await gateway.publish(ENERGY_TOPIC, b"", retain=True)
    await wait_until(lambda: hub.states.get(ENERGY) is None)
    assert hub.entities.get(ENERGY) is None
    assert hub.entity_registry.get(ENERGY) is None
    # Announced again later, it comes back under the same id.
    await gateway.publish(ENERGY_TOPIC, json.dumps(ENERGY_CONFIG), retain=True)
    await wait_until(lambda: state_of(hub, ENERGY) == "10.5")


async def test_bad_announcements_are_logged_and_ignored(
    broker: Broker, gateway, hub_factory, caplog: pytest.LogCaptureFixture
) -> None:
    hub = await hub_factory(broker.yaml())
    await wait_until(lambda: hub.data["mqtt"].connected)
    await gateway.publish("homeassistant/sensor/x/config", b"{not json")
    await gateway.publish("homeassistant/sensor/y/config", json.dumps(["a list"]))
    await gateway.publish("homeassistant/sensor/z/config", json.dumps(
        {"name": "No topic", "unit_of_meas": "kW"}))
    await gateway.publish("homeassistant/sensor/w/config", json.dumps(
        {"name": "Bad class", "stat_t": "a/b", "stat_cla": "sometimes"}))
    await gateway.publish("homeassistant/switch/pump/config", json.dumps(
        {"name": "Pump", "cmd_t": "pump/set"}))
    await gateway.publish("homeassistant/sensor/ok/config", json.dumps(
        {"name": "Still works", "stat_t": "ok/state"}))
    await wait_until(lambda: hub.states.get("sensor.still_works") is not None)
    assert "homeassistant/sensor/x/config: payload '{not json' is not JSON" in caplog.text
    assert "homeassistant/sensor/y/config: expected a JSON object" in caplog.text
    assert "invalid sensor config: required key 'state_topic' is missing" in caplog.text
    assert "state_class must be measurement, total or total_increasing" in caplog.text
    assert [state.entity_id for state in hub.states.all("sensor")] == ["sensor.still_works"]


async def test_device_based_discovery_and_a_custom_prefix(
    broker: Broker, gateway, hub_factory
) -> None:
    hub = await hub_factory(broker.yaml("  discovery_prefix: plant_discovery\n"))
    await wait_until(lambda: hub.data["mqtt"].connected)
    device_config = {
        "dev": {"ids": "acrel_07", "name": "Acrel 7", "mf": "Acrel", "mdl": "ADL400"},
        "o": {"name": "gw-firmware"},
        "~": "gw02/acrel_07",
        "stat_t": "~/state",
        "cmps": {
            "ua": {"p": "sensor", "name": "Ua", "uniq_id": "acrel_07_ua",
                   "val_tpl": "{{ value_json.Ua }}", "unit_of_meas": "V",
                   "dev_cla": "voltage"},
            "trip": {"p": "binary_sensor", "name": "Trip", "uniq_id": "acrel_07_trip",
                     "val_tpl": "{{ value_json.trip }}", "pl_on": "1", "pl_off": "0"},
            "relay": {"p": "switch", "name": "Relay", "cmd_t": "~/set"},
        },
    }
    topic = "plant_discovery/device/acrel_07/config"
    # The default prefix is not listened to any more.
    await gateway.publish("homeassistant/sensor/ignored/config", json.dumps(
        {"name": "Ignored", "stat_t": "x"}))
    await gateway.publish(topic, json.dumps(device_config))
    await wait_until(lambda: hub.states.get("binary_sensor.acrel_7_trip") is not None)
    await gateway.publish("gw02/acrel_07/state", json.dumps({"Ua": 231.4, "trip": "1"}))
    await wait_until(lambda: state_of(hub, "sensor.acrel_7_ua") == "231.4")
    assert state_of(hub, "binary_sensor.acrel_7_trip") == "on"
    assert hub.states.get("sensor.ignored") is None
    # A component reduced to its platform goes; the rest stays.
    device_config["cmps"]["trip"] = {"p": "binary_sensor"}
    await gateway.publish(topic, json.dumps(device_config))
    await wait_until(lambda: hub.states.get("binary_sensor.acrel_7_trip") is None)
    assert state_of(hub, "sensor.acrel_7_ua") == "231.4"
    await gateway.publish(topic, b"")
    await wait_until(lambda: hub.states.get("sensor.acrel_7_ua") is None)


async def test_discovery_can_be_turned_off(broker: Broker, gateway, hub_factory) -> None:
    await gateway.publish(ENERGY_TOPIC, json.dumps(ENERGY_CONFIG), retain=True)
    hub = await hub_factory(broker.yaml("  discovery: false\n  sensor:\n"
                                        "    - name: Marker\n      state_topic: marker\n"))
    await wait_until(lambda: hub.data["mqtt"].connected)
    await gateway.publish("marker", "1")
    await wait_until(lambda: state_of(hub, "sensor.marker") == "1")
    assert hub.states.get(ENERGY) is None
