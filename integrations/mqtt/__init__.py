"""mqtt: a broker connection, MQTT sensors from YAML, Home Assistant discovery, publishing.

    mqtt:
      broker: 127.0.0.1              # required
      port: 1883
      username: plantpulse           # optional, with password: !secret mqtt_password
      client_id: plantpulse-hub      # default: random
      discovery: true                # Home Assistant MQTT discovery (default on)
      discovery_prefix: homeassistant
      birth_message: {topic: plantpulse/status, payload: online, retain: true}   # default
      will_message: {topic: plantpulse/status, payload: offline, retain: true}   # default
      sensor:
        - name: 一号空压机 功率
          state_topic: gateway/compressor1/state
          value_template: "{{ value_json.power }}"     # or json_path: power
          timestamp_path: ts                            # the source's time of the value
          unit_of_measurement: kW
          device_class: power
          state_class: measurement
          json_attributes_topic: gateway/compressor1/state
          availability_topic: gateway/compressor1/status   # online / offline
          expire_after: 300
          unique_id: compressor1_power
          device: {identifiers: [compressor1], name: 一号空压机, manufacturer: Atlas Copco}
      binary_sensor:
        - name: 一号空压机 运行
          state_topic: gateway/compressor1/running
          payload_on: "1"
          payload_off: "0"

The hub connects in the background and reconnects with backoff (1 s doubling to 60 s); while
the broker is gone, entities with availability topics are unavailable. A numeric sensor (one
with a unit, a state class or a numeric device class) ignores payloads that are not numbers
and keeps its last value; the first of a run of bad payloads is logged as a warning. Values
with a source time (`timestamp_path` or `timestamp_template`: ISO 8601 or epoch seconds or
milliseconds) are filed under that time, so buffered gateway data lands in the right period.
`mqtt.publish` publishes (topic, payload, qos, retain); the `mqtt` automation trigger is in
trigger.py.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import StopStage
from plantpulse.core.jsonenc import json_dumps
from plantpulse.core.services import ServiceCall, ServiceField
from plantpulse.integrations.mqtt.binary_sensor import MqttBinarySensor
from plantpulse.integrations.mqtt.client import (
    ConnectionSettings,
    MqttConnection,
    NotConnectedError,
    StatusMessage,
)
from plantpulse.integrations.mqtt.discovery import Discovery
from plantpulse.integrations.mqtt.entity import DOMAIN, MqttEntity
from plantpulse.integrations.mqtt.schema import (
    BINARY_SENSOR_SCHEMA,
    QOS,
    SENSOR_SCHEMA,
)
from plantpulse.integrations.mqtt.sensor import MqttSensor
from plantpulse.integrations.mqtt.topic import valid_publish_topic, valid_subscribe_topic

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

STATUS_TOPIC: Final = "plantpulse/status"
ENTITY_CLASSES: Final[dict[str, type[MqttEntity]]] = {
    "sensor": MqttSensor, "binary_sensor": MqttBinarySensor,
}


def _status(payload: str) -> vol.Schema:
    return vol.Schema({
        vol.Optional("topic", default=STATUS_TOPIC): valid_publish_topic,
        vol.Optional("payload", default=payload): cv.string,
        vol.Optional("qos", default=0): QOS,
        vol.Optional("retain", default=True): cv.boolean,
    })


def _discovery_prefix(value: Any) -> str:
    prefix = valid_subscribe_topic(value)
    if "+" in prefix or "#" in prefix or prefix.endswith("/"):
        raise vol.Invalid("the discovery prefix is a plain topic such as homeassistant")
    return prefix


def _optional_status(payload: str) -> Any:
    """A birth or will message: `{}`, null or true for the defaults, false for none."""
    schema = _status(payload)

    def validate(value: Any) -> dict[str, Any] | None:
        if value is False:
            return None
        return schema({} if value is None or value is True else value)  # type: ignore[no-any-return]

    return validate


CONFIG_SCHEMA: Final = vol.Schema({
    vol.Required("broker"): cv.string,
    vol.Optional("port", default=1883): cv.port,
    vol.Inclusive("username", "credentials"): cv.string,
    vol.Inclusive("password", "credentials"): cv.string,
    vol.Optional("client_id"): cv.string,
    vol.Optional("keepalive", default=60): vol.All(vol.Coerce(int), vol.Range(min=5)),
    vol.Optional("discovery", default=True): cv.boolean,
    vol.Optional("discovery_prefix", default="homeassistant"): _discovery_prefix,
    vol.Optional("birth_message", default={}): _optional_status("online"),
    vol.Optional("will_message", default={}): _optional_status("offline"),
    vol.Optional("sensor", default=[]): vol.All(cv.ensure_list, [SENSOR_SCHEMA]),
    vol.Optional("binary_sensor", default=[]): vol.All(cv.ensure_list, [BINARY_SENSOR_SCHEMA]),
})

PUBLISH_SCHEMA: Final = vol.Schema({
    vol.Required("topic"): valid_publish_topic,
    vol.Optional("payload", default=""): vol.Any(str, int, float, bool, dict, list, None),
    vol.Optional("qos", default=0): QOS,
    vol.Optional("retain", default=False): cv.boolean,
})


def build_entity(connection: MqttConnection, platform: str, config: Mapping[str, Any]
                 ) -> MqttEntity:
    """The entity of a validated sensor or binary_sensor config."""
    return ENTITY_CLASSES[platform](connection, config)


def payload_bytes(payload: Any) -> str:
    """Service data as the text to publish: mappings and lists as JSON, None as empty."""
    if payload is None:
        return ""
    if isinstance(payload, dict | list):
        return json_dumps(payload)
    if isinstance(payload, bool):
        return "true" if payload else "false"
    return str(payload)


def _settings(config: Mapping[str, Any]) -> ConnectionSettings:
    def status(block: Mapping[str, Any] | None) -> StatusMessage | None:
        if block is None:
            return None
        return StatusMessage(block["topic"], block["payload"], block["qos"], block["retain"])

    return ConnectionSettings(
        host=config["broker"], port=config["port"], username=config.get("username"),
        password=config.get("password"), client_id=config.get("client_id"),
        keepalive=config["keepalive"], birth=status(config["birth_message"]),
        will=status(config["will_message"]),
    )


async def async_setup(hub: Hub, config: Mapping[str, Any]) -> bool:
    """Connect to the broker, add the YAML entities, start discovery, register publish."""
    connection = MqttConnection(hub, _settings(config))
    hub.data[DOMAIN] = connection
    entities = [build_entity(connection, platform, item)
                for platform in ENTITY_CLASSES for item in config[platform]]
    await hub.entities.async_add(DOMAIN, entities)
    if config["discovery"]:
        discovery = Discovery(hub, connection, config["discovery_prefix"],
                              lambda platform, item: build_entity(connection, platform, item))
        hub.data[f"{DOMAIN}_discovery"] = discovery
        discovery.async_start()
    connection.async_start()
    hub.async_on_stop(connection.async_stop, StopStage.INTEGRATIONS)

    async def publish(call: ServiceCall) -> None:
        try:
            await connection.async_publish(call.data["topic"],
                                           payload_bytes(call.data["payload"]),
                                           call.data["qos"], call.data["retain"])
        except NotConnectedError as err:
            raise ServiceValidationError(str(err)) from None

    hub.services.async_register(
        DOMAIN, "publish", publish, PUBLISH_SCHEMA,
        description="Publish a message to the MQTT broker.",
        fields={
            "topic": ServiceField("Topic to publish to (no wildcards).", "plant/line1/cmd",
                                  required=True),
            "payload": ServiceField("Text to send; a mapping or list is sent as JSON.", "ON"),
            "qos": ServiceField("Quality of service: 0, 1 or 2.", 0),
            "retain": ServiceField("Whether the broker keeps it for new subscribers.", False),
        },
    )
    return True
