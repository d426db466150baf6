"""The broker connection against a real mosquitto: birth and offline status, a broker that
dies and comes back, availability while it is gone, passwords, and mqtt.publish."""

from __future__ import annotations

import asyncio
import json
import logging

import aiomqtt
import pytest

from plantpulse.core.exceptions import ServiceValidationError
from tests.integrations.mqtt.conftest import Broker, state_of, wait_until

ENTITIES = """
  sensor:
    - name: Line power
      state_topic: plant/line1/power
      unit_of_measurement: kW
      availability_topic: plant/line1/status
    - name: Line voltage
      state_topic: plant/line1/voltage
      unit_of_measurement: V
"""


class Watcher:
    """A client that records every message on some topics."""

    def __init__(self, broker: Broker, *topics: str) -> None:
        self._client = aiomqtt.Client(broker.host, broker.port)
        self._topics = topics
        self.messages: list[tuple[str, str, bool]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        await self._client.__aenter__()
        for topic in self._topics:
            await self._client.subscribe(topic)
        self._task = asyncio.create_task(self._collect())
        return self

    async def _collect(self) -> None:
        async for message in self._client.messages:
            self.messages.append((message.topic.value, message.payload.decode(),
                                  message.retain))

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._client.__aexit__(None, None, None)


async def test_birth_online_and_offline_at_stop(broker: Broker, hub_factory) -> None:
    async with Watcher(broker, "plantpulse/status") as watcher:
        hub = await hub_factory(broker.yaml("  client_id: plant-hub\n"))
        await wait_until(lambda: ("plantpulse/status", "online", False) in watcher.messages)
        await hub.async_stop()
        await wait_until(lambda: watcher.messages[-1][:2] == ("plantpulse/status", "offline"))
    # Both are retained: a newcomer learns the hub's status at once.
    async with Watcher(broker, "plantpulse/status") as late:
        await wait_until(lambda: late.messages == [("plantpulse/status", "offline", True)])


async def test_a_broker_that_dies_makes_available_entities_unavailable_and_comes_back(
    broker: Broker, gateway, hub_factory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "plantpulse.integrations.mqtt")
    hub = await hub_factory(broker.yaml(ENTITIES))
    connection = hub.data["mqtt"]
    await wait_until(lambda: connection.connected)
    assert state_of(hub, "sensor.line_power") == "unavailable"  # no status seen yet
    await gateway.publish("plant/line1/status", "online", retain=True)
    await gateway.publish("plant/line1/power", "41.5")
    await gateway.publish("plant/line1/voltage", "398")
    await wait_until(lambda: state_of(hub, "sensor.line_voltage") == "398"
                     and state_of(hub, "sensor.line_power") == "41.5")
    broker.stop()
    await wait_until(lambda: not connection.connected)
    assert state_of(hub, "sensor.line_power") == "unavailable"
    assert state_of(hub, "sensor.line_voltage") == "398"  # no availability: keeps its value
    assert "Lost the MQTT broker" in caplog.text
    broker.start()  # same port; a broker without persistence forgot retained messages
    await wait_until(lambda: connection.connected, within=10)
    async with aiomqtt.Client(broker.host, broker.port) as device:
        await device.publish("plant/line1/status", "online", retain=True)
        await device.publish("plant/line1/power", "42")
        await wait_until(lambda: state_of(hub, "sensor.line_power") == "42")
    assert f"Connected to the MQTT broker 127.0.0.1:{broker.port} again" in caplog.text


async def test_a_broker_down_at_start_does_not_hold_the_hub(broker: Broker, hub_factory) -> None:
    broker.stop()
    hub = await hub_factory(broker.yaml(ENTITIES))
    assert state_of(hub, "sensor.line_voltage") == "unknown"
    broker.start()
    await wait_until(lambda: hub.data["mqtt"].connected, within=10)
    async with aiomqtt.Client(broker.host, broker.port) as device:
        await device.publish("plant/line1/voltage", "401")
        await wait_until(lambda: state_of(hub, "sensor.line_voltage") == "401")


async def test_password_protected_broker(secured_broker: Broker, hub_factory,
                                         caplog: pytest.LogCaptureFixture) -> None:
    wrong = await hub_factory(secured_broker.yaml("  username: meter\n  password: wrong\n"))
    await wait_until(lambda: "check username and password" in caplog.text)
    assert not wrong.data["mqtt"].connected
    await wrong.async_stop()
    hub = await hub_factory(secured_broker.yaml("  username: meter\n  password: kWh-2026\n"
                                                + ENTITIES))
    await wait_until(lambda: hub.data["mqtt"].connected)
    async with aiomqtt.Client(secured_broker.host, secured_broker.port, username="meter",
                              password="kWh-2026") as device:
        await device.publish("plant/line1/voltage", "399")
        await wait_until(lambda: state_of(hub, "sensor.line_voltage") == "399")


async def test_publish_service(broker: Broker, hub_factory) -> None:
    hub = await hub_factory(broker.yaml())
    await wait_until(lambda: hub.data["mqtt"].connected)
    async with Watcher(broker, "plant/#") as watcher:
        await hub.services.async_call("mqtt", "publish", {
            "topic": "plant/line1/setpoint", "payload": 42.5, "qos": 1})
        await hub.services.async_call("mqtt", "publish", {
            "topic": "plant/line1/config", "payload": {"mode": "节能", "limit": 80},
            "retain": True})
        await wait_until(lambda: len(watcher.messages) == 2)
        assert watcher.messages[0] == ("plant/line1/setpoint", "42.5", False)
        assert watcher.messages[1][0] == "plant/line1/config"
        assert json.loads(watcher.messages[1][1]) == {"mode": "节能", "limit": 80}
    async with Watcher(broker, "plant/line1/config") as late:  # retained
        await wait_until(lambda: len(late.messages) == 1)
    with pytest.raises(ServiceValidationError, match="wildcard"):
        await hub.services.async_call("mqtt", "publish", {"topic": "plant/+/cmd"})
    with pytest.raises(ServiceValidationError, match="qos must be 0, 1 or 2"):
        await hub.services.async_call("mqtt", "publish", {"topic": "plant/x", "qos": 3})
    broker.stop()
    await wait_until(lambda: not hub.data["mqtt"].connected)
    with pytest.raises(ServiceValidationError, match="not connected to the MQTT broker"):
        await hub.services.async_call("mqtt", "publish", {"topic": "plant/x", "payload": "1"})


async def test_config_errors_name_the_problem(broker: Broker, hub_factory) -> None:
    hub = await hub_factory(broker.yaml("""
  sensor:
    - name: Good
      state_topic: plant/good
    - name: Wildcard in the middle
      state_topic: "plant/#/power"
    - name: Both
      state_topic: plant/both
      json_path: power
      value_template: "{{ value_json.power }}"
    - name: Bad path
      state_topic: plant/path
      json_path: "meters[x"
"""))
    messages = " | ".join(issue.message for issue in hub.config_issues)
    assert "'#' must be a whole level and the last one" in messages
    assert "json_path" in messages and "value_template" in messages
    assert "cannot read JSON path 'meters[x'" in messages
    assert state_of(hub, "sensor.good") == "unknown"
