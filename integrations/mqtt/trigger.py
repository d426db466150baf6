"""`mqtt` trigger: a message on a topic (wildcards allowed), optionally with a given payload.

    trigger:
      - platform: mqtt
        topic: plant/+/alarm          # `+` one level, `#` the rest
        payload: "ON"                 # optional: only this payload (after value_template)
        value_template: "{{ value_json.state }}"   # optional
        qos: 0

`topic` and `payload` may be templates, rendered once when the trigger is attached (with the
automation's trigger_variables). The run's `trigger` holds `topic`, `payload` (text),
`payload_json` (when the payload is JSON), `qos` and `retain`. Needs the `mqtt:` block.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.const import CONF_PLATFORM
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Context
from plantpulse.core.template import TemplateError
from plantpulse.integrations.mqtt.client import MqttConnection, ReceivedMessage
from plantpulse.integrations.mqtt.entity import DOMAIN
from plantpulse.integrations.mqtt.payload import NOT_JSON, decode_json, template_variables
from plantpulse.integrations.mqtt.schema import QOS
from plantpulse.integrations.mqtt.topic import valid_subscribe_topic

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


def _topic(value: Any) -> Any:
    template = cv.template(value)
    if template.is_static:
        valid_subscribe_topic(template.source)
    return template


TRIGGER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_PLATFORM): DOMAIN,
    vol.Required("topic"): _topic,
    vol.Optional("payload"): cv.template,
    vol.Optional("value_template"): cv.template,
    vol.Optional("qos", default=0): QOS,
})


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Subscribe to the topic; fire for each message whose (templated) payload matches."""
    connection: MqttConnection | None = hub.data.get(DOMAIN)
    if connection is None:
        raise ValueError("the mqtt trigger needs the mqtt integration: add an 'mqtt:' block "
                         "with the broker to configuration.yaml")
    topic = str(config["topic"].async_render(hub, info.variables, parse_result=False))
    try:
        valid_subscribe_topic(topic)
    except vol.Invalid as err:
        raise ValueError(f"topic rendered to {topic!r}: {err.msg}") from None
    wanted = None
    if "payload" in config:
        wanted = str(config["payload"].async_render(hub, info.variables, parse_result=False))
    value_template = config.get("value_template")
    trigger_data = info.trigger_data

    def received(message: ReceivedMessage) -> None:
        text = message.payload.decode("utf-8", "replace")
        if wanted is not None:
            compared = text
            if value_template is not None:
                try:
                    compared = str(value_template.async_render(
                        hub, {**info.variables, **template_variables(text)}, parse_result=False))
                except TemplateError as err:
                    _LOGGER.warning("%s %s: mqtt trigger value_template on %s: %s", info.domain,
                                    info.name, message.topic, err)
                    return
            if compared != wanted:
                return
        variables: dict[str, Any] = {
            **trigger_data, "platform": DOMAIN, "topic": message.topic, "payload": text,
            "qos": message.qos, "retain": message.retain,
            "description": f"mqtt topic {message.topic}",
        }
        if (decoded := decode_json(text)) is not NOT_JSON:
            variables["payload_json"] = decoded
        action(variables, Context())

    return connection.async_subscribe(topic, received, config["qos"])
