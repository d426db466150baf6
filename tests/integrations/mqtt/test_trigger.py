"""The `mqtt` automation trigger against a real mosquitto: wildcards, payload match through a
value template, `trigger.topic/payload/payload_json`, a topic from trigger_variables."""

from __future__ import annotations

import json

import pytest

from plantpulse.core.events import Event
from tests.integrations.mqtt.conftest import Broker, wait_until

AUTOMATIONS = """
automation:
  - id: compressor_alarm
    alias: Compressor alarm
    trigger:
      - platform: mqtt
        topic: plant/+/alarm
        payload: "ON"
        value_template: "{{ value_json.state }}"
    action:
      - event: alarm_seen
        event_data:
          topic: "{{ trigger.topic }}"
          code: "{{ trigger.payload_json.code }}"
          raw: "{{ trigger.payload }}"
  - id: any_message
    trigger_variables:
      line: line2
    trigger:
      - trigger: mqtt
        topic: "plant/{{ line }}/#"
    action:
      - event: line2_message
        event_data:
          topic: "{{ trigger.topic }}"
          payload: "{{ trigger.payload }}"
"""


async def test_mqtt_triggers_start_automations(broker: Broker, gateway, hub_factory) -> None:
    hub = await hub_factory(broker.yaml() + AUTOMATIONS)
    alarms: list[Event] = []
    line2: list[Event] = []
    hub.bus.async_listen("alarm_seen", alarms.append)
    hub.bus.async_listen("line2_message", line2.append)
    await wait_until(lambda: hub.data["mqtt"].connected)
    await gateway.publish("plant/compressor1/alarm", json.dumps({"state": "OFF", "code": 1}))
    await gateway.publish("plant/compressor1/alarm", "not json")
    await gateway.publish("plant/compressor1/alarm", json.dumps({"state": "ON", "code": 17}))
    await gateway.publish("plant/line2/alarm", json.dumps({"state": "ON", "code": 3}))
    await gateway.publish("plant/a/b/alarm", json.dumps({"state": "ON", "code": 9}))  # 2 levels
    await wait_until(lambda: len(alarms) == 2 and len(line2) == 1)
    assert [(event.data["topic"], event.data["code"]) for event in alarms] == [
        ("plant/compressor1/alarm", 17), ("plant/line2/alarm", 3)]
    assert alarms[0].data["raw"] == {"state": "ON", "code": 17}  # templates parse results
    await gateway.publish("plant/line2/meter/power", "41.5")
    await wait_until(lambda: len(line2) == 2)
    assert line2[1].data == {"topic": "plant/line2/meter/power", "payload": 41.5}
    # Turned off, the automation lets go of its topic.
    await hub.services.async_call("automation", "turn_off",
                                  {"entity_id": "automation.compressor_alarm"})
    await gateway.publish("plant/compressor1/alarm", json.dumps({"state": "ON", "code": 18}))
    await gateway.publish("plant/line2/end", "x")
    await wait_until(lambda: len(line2) == 3)
    assert len(alarms) == 2


async def test_trigger_errors(broker: Broker, hub_factory,
                              caplog: pytest.LogCaptureFixture) -> None:
    hub = await hub_factory(broker.yaml() + """
automation:
  - id: bad_topic
    trigger:
      - platform: mqtt
        topic: "plant/#/x"
    action: []
""")
    assert any("'#' must be a whole level" in issue.message for issue in hub.config_issues)
    without = await hub_factory("""
automation:
  - id: no_broker
    trigger:
      - platform: mqtt
        topic: plant/x
    action: []
""")
    assert without.data.get("mqtt") is None
    assert "the mqtt trigger needs the mqtt integration" in caplog.text
