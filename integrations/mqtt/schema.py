"""Schemas of MQTT sensors and binary sensors, shared by YAML and discovery.

Keys are Home Assistant's (`state_topic`, `value_template`, `availability_topic`, ...), plus
`json_path` (a value inside a JSON payload without a template) and `timestamp_template` /
`timestamp_path` (the time the value was measured, from the payload).
"""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.platforms.sensor import StateClass
from plantpulse.integrations.mqtt.payload import json_path
from plantpulse.integrations.mqtt.topic import valid_subscribe_topic

QOS: Final = vol.All(vol.Coerce(int), vol.In([0, 1, 2], msg="qos must be 0, 1 or 2"))
DEFAULT_PAYLOAD_AVAILABLE: Final = "online"
DEFAULT_PAYLOAD_NOT_AVAILABLE: Final = "offline"
AVAILABILITY_MODES: Final = ("all", "any", "latest")
_EITHER_VALUE: Final = "write either value_template or json_path, not both"
_EITHER_TIME: Final = "write either timestamp_template or timestamp_path, not both"
_EITHER_AVAILABILITY: Final = "write either availability_topic or an availability list, not both"


def _identifiers(value: Any) -> list[str]:
    return [cv.string(item) for item in cv.ensure_list(value)]


def _connections(value: Any) -> list[tuple[str, str]]:
    result = []
    for item in cv.ensure_list(value):
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise vol.Invalid("expected connections as pairs such as [mac, '02:42:ac:11:00:02']")
        result.append((cv.string(item[0]), cv.string(item[1])))
    return result


def _findable(device: dict[str, Any]) -> dict[str, Any]:
    if not device.get("identifiers") and not device.get("connections"):
        raise vol.Invalid("a device needs 'identifiers' or 'connections' so it can be found "
                          "again")
    return device


DEVICE_SCHEMA: Final = vol.All(vol.Schema({
    vol.Optional("identifiers"): _identifiers,
    vol.Optional("connections"): _connections,
    vol.Optional("name"): cv.string,
    vol.Optional("manufacturer"): cv.string,
    vol.Optional("model"): cv.string,
    vol.Optional("model_id"): cv.string,
    vol.Optional("sw_version"): cv.string,
    vol.Optional("hw_version"): cv.string,
    vol.Optional("serial_number"): cv.string,
    vol.Optional("suggested_area"): cv.string,
    vol.Optional("via_device"): cv.string,
    vol.Optional("configuration_url"): cv.string,
}), _findable)

AVAILABILITY_SCHEMA: Final = vol.Schema({
    vol.Required("topic"): valid_subscribe_topic,
    vol.Optional("payload_available", default=DEFAULT_PAYLOAD_AVAILABLE): cv.string,
    vol.Optional("payload_not_available", default=DEFAULT_PAYLOAD_NOT_AVAILABLE): cv.string,
    vol.Optional("value_template"): cv.template,
})

_COMMON: Final = {
    vol.Optional("name"): vol.Any(None, cv.string),
    vol.Optional("unique_id"): cv.string,
    vol.Required("state_topic"): valid_subscribe_topic,
    vol.Optional("qos", default=0): QOS,
    vol.Exclusive("value_template", "value", msg=_EITHER_VALUE): cv.template,
    vol.Exclusive("json_path", "value", msg=_EITHER_VALUE): json_path,
    vol.Exclusive("timestamp_template", "timestamp", msg=_EITHER_TIME): cv.template,
    vol.Exclusive("timestamp_path", "timestamp", msg=_EITHER_TIME): json_path,
    vol.Optional("device_class"): vol.Any(None, vol.All(cv.string, vol.Lower)),
    vol.Optional("icon"): cv.string,
    vol.Optional("force_update", default=False): cv.boolean,
    vol.Optional("expire_after"): vol.All(vol.Coerce(int), vol.Range(min=0)),
    vol.Optional("json_attributes_topic"): valid_subscribe_topic,
    vol.Optional("json_attributes_template"): cv.template,
    vol.Exclusive("availability_topic", "availability", msg=_EITHER_AVAILABILITY):
        valid_subscribe_topic,
    vol.Exclusive("availability", "availability", msg=_EITHER_AVAILABILITY): vol.All(
        cv.ensure_list, vol.Length(min=1), [AVAILABILITY_SCHEMA]),
    vol.Optional("availability_template"): cv.template,
    vol.Optional("payload_available", default=DEFAULT_PAYLOAD_AVAILABLE): cv.string,
    vol.Optional("payload_not_available", default=DEFAULT_PAYLOAD_NOT_AVAILABLE): cv.string,
    vol.Optional("availability_mode", default="latest"): vol.In(
        AVAILABILITY_MODES, msg="availability_mode must be all, any or latest"),
    vol.Optional("device"): DEVICE_SCHEMA,
}

SENSOR_SCHEMA: Final = vol.Schema({
    **_COMMON,
    vol.Optional("unit_of_measurement"): vol.Any(None, cv.string),
    vol.Optional("state_class"): vol.Any(
        None, vol.In([item.value for item in StateClass]),
        msg="state_class must be measurement, total or total_increasing"),
    vol.Optional("suggested_display_precision"): vol.All(vol.Coerce(int), vol.Range(min=0)),
})

BINARY_SENSOR_SCHEMA: Final = vol.Schema({
    **_COMMON,
    vol.Optional("payload_on", default="ON"): cv.string,
    vol.Optional("payload_off", default="OFF"): cv.string,
    vol.Optional("off_delay"): vol.All(vol.Coerce(int), vol.Range(min=0)),
})

PLATFORM_SCHEMAS: Final = {"sensor": SENSOR_SCHEMA, "binary_sensor": BINARY_SENSOR_SCHEMA}
