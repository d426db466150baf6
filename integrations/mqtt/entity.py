"""What every MQTT entity shares: subscriptions, availability, JSON attributes, expiry,
source timestamps, a device from the config, and bad payloads logged once per streak."""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Final

from plantpulse.core.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from plantpulse.core.entity import DeviceInfo, Entity
from plantpulse.core.exceptions import InvalidStateError
from plantpulse.core.template import Template, TemplateError
from plantpulse.integrations.mqtt.client import MqttConnection, ReceivedMessage
from plantpulse.integrations.mqtt.payload import (
    PayloadError,
    ValueReader,
    template_variables,
    to_datetime,
)

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "mqtt"
# Attributes the hub sets itself; a JSON attributes payload cannot override them.
_RESERVED_ATTRIBUTES: Final = frozenset({
    "device_class", "friendly_name", "icon", "state_class", "unit_of_measurement",
    "entity_picture", "assumed_state", "supported_features",
})
# A source time further ahead than this is a wrong gateway clock: the receive time is used.
_FUTURE_TOLERANCE: Final = timedelta(minutes=1)
_SHOWN_PAYLOAD: Final = 60
_DEVICE_FIELDS: Final = ("name", "manufacturer", "model", "sw_version", "serial_number",
                         "suggested_area")


@dataclass(frozen=True, slots=True)
class AvailabilityTopic:
    """One topic that says whether the entity is available."""

    topic: str
    payload_available: str
    payload_not_available: str
    template: Template | None = None


def availability_topics(config: Mapping[str, Any]) -> list[AvailabilityTopic]:
    """The availability topics of a validated entity config (either form)."""
    if "availability_topic" in config:
        return [AvailabilityTopic(config["availability_topic"], config["payload_available"],
                                  config["payload_not_available"],
                                  config.get("availability_template"))]
    return [AvailabilityTopic(item["topic"], item["payload_available"],
                              item["payload_not_available"], item.get("value_template"))
            for item in config.get("availability", ())]


def device_info(config: Mapping[str, Any]) -> DeviceInfo | None:
    """The device of an entity config's `device` block (only the fields it names)."""
    device = config.get("device")
    if not device:
        return None
    identifiers = [(DOMAIN, item) for item in device.get("identifiers", ())]
    identifiers += [tuple(pair) for pair in device.get("connections", ())]
    info = DeviceInfo(identifiers=identifiers)
    for key in _DEVICE_FIELDS:
        if key in device:
            info[key] = device[key]  # type: ignore[literal-required]
    if "via_device" in device:
        info["via_device"] = (DOMAIN, device["via_device"])
    return info


def payload_text(message: ReceivedMessage) -> str:
    """The payload as text; raises PayloadError for bytes that are not UTF-8."""
    try:
        return message.payload.decode("utf-8")
    except UnicodeDecodeError:
        raise PayloadError("the payload is not UTF-8 text") from None


def shown(payload: bytes) -> str:
    """A payload shortened for a log line."""
    text = payload[:_SHOWN_PAYLOAD].decode("utf-8", "replace")
    return text + ("..." if len(payload) > _SHOWN_PAYLOAD else "")


class MqttEntity(Entity, ABC):
    """Base of MQTT sensors and binary sensors: subclasses turn a payload value into a state.

    Subclasses implement `_convert` (payload value to native value, raising PayloadError for
    garbage) and `_swap_value` (set the native value, return the previous one).
    """

    DEFAULT_NAME: ClassVar[str] = "MQTT entity"

    def __init__(self, connection: MqttConnection, config: Mapping[str, Any]) -> None:
        self._connection = connection
        self._config = config
        self._attr_unique_id = config.get("unique_id")
        self._attr_device_info = device_info(config)
        self._attr_has_entity_name = self._attr_device_info is not None
        if "name" in config:
            self._attr_name = config["name"]
        elif self._attr_device_info is None:
            self._attr_name = self.DEFAULT_NAME
        self._attr_device_class = config.get("device_class")
        self._attr_icon = config.get("icon")
        self._reader = ValueReader(config.get("value_template"), config.get("json_path"))
        self._timestamp = ValueReader(config.get("timestamp_template"),
                                      config.get("timestamp_path"))
        self._availability = availability_topics(config)
        self._availability_seen: dict[str, bool] = {}
        self._latest_availability: bool | None = None
        self._expired = False
        self._cancel_expiry: Callable[[], None] | None = None
        self._bad_streaks: set[str] = set()

    @property
    def device_info(self) -> DeviceInfo | None:
        """The configured device; fields it leaves out come from the registered device.

        A discovery config often names its device by identifiers only, after another config
        described it in full: the registry keeps the full description.
        """
        info = self._attr_device_info
        if info is None:
            return None
        identifiers = set(info["identifiers"])
        known = next((device for device in self.hub.device_registry.devices.values()
                      if identifiers.intersection(device.identifiers)), None)
        merged = DeviceInfo(**info)  # type: ignore[typeddict-item]
        for key in _DEVICE_FIELDS:
            if key not in merged and known is not None and getattr(known, key, None):
                merged[key] = getattr(known, key)  # type: ignore[literal-required]
        if not merged.get("name"):
            merged["name"] = info["identifiers"][0][1]
        return merged

    @property
    def config(self) -> Mapping[str, Any]:
        """The validated config the entity was made from."""
        return self._config

    # Availability -------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        if self._expired:
            return False
        if not self._availability:
            return True
        if not self._connection.connected:
            return False
        mode = self._config["availability_mode"]
        if mode == "latest":
            return bool(self._latest_availability)
        seen = [self._availability_seen.get(item.topic, False) for item in self._availability]
        return all(seen) if mode == "all" else any(seen)

    def _on_availability(self, item: AvailabilityTopic, message: ReceivedMessage) -> None:
        try:
            text = payload_text(message)
            if item.template is not None:
                text = item.template.async_render(self.hub, template_variables(text),
                                                  parse_result=False)
        except (PayloadError, TemplateError) as err:
            self._bad_payload("availability payload", message, err)
            return
        self._good_payload("availability payload", message)
        if text == item.payload_available:
            value = True
        elif text == item.payload_not_available:
            value = False
        else:
            _LOGGER.debug("%s: availability payload %r on %s is neither %r nor %r",
                          self.entity_id, text, message.topic, item.payload_available,
                          item.payload_not_available)
            return
        self._availability_seen[item.topic] = value
        self._latest_availability = value
        self.async_write_state()

    def _on_connection(self, _connected: bool) -> None:
        if self._availability:
            self.async_write_state()

    # Lifecycle ----------------------------------------------------------------------------

    async def async_added_to_hub(self) -> None:
        connection, qos = self._connection, self._config["qos"]
        self.async_on_remove(connection.async_subscribe(
            self._config["state_topic"], self._on_state, qos))
        if topic := self._config.get("json_attributes_topic"):
            self.async_on_remove(connection.async_subscribe(topic, self._on_attributes, qos))
        for item in self._availability:
            self.async_on_remove(connection.async_subscribe(
                item.topic, lambda message, item=item: self._on_availability(item, message), qos))
        self.async_on_remove(connection.async_add_connection_listener(self._on_connection))
        self.async_on_remove(self._stop_expiry)

    def _stop_expiry(self) -> None:
        if self._cancel_expiry is not None:
            self._cancel_expiry()
            self._cancel_expiry = None

    def _restart_expiry(self) -> None:
        self._stop_expiry()
        self._expired = False
        if expire_after := self._config.get("expire_after"):
            self._cancel_expiry = self.hub.async_call_later(expire_after, self._expire)

    def _expire(self) -> None:
        self._cancel_expiry = None
        self._expired = True
        _LOGGER.debug("%s expired: no value for %s s", self.entity_id,
                      self._config["expire_after"])
        self.async_write_state()

    # Values -------------------------------------------------------------------------------

    @abstractmethod
    def _convert(self, value: Any) -> Any:
        """The native value of a payload value; raises PayloadError for garbage."""

    @abstractmethod
    def _swap_value(self, value: Any) -> Any:
        """Set the native value; return the previous one."""

    def _on_state(self, message: ReceivedMessage) -> None:
        try:
            text = payload_text(message)
            plain = self._reader.is_plain and self._timestamp.is_plain
            variables = None if plain else template_variables(text)
            value = self._convert(self._reader.read(self.hub, text, variables))
            measured_at = self._measured_at(text, variables)
        except (PayloadError, TemplateError) as err:
            self._bad_payload("payload", message, err)
            return
        self._good_payload("payload", message)
        self._restart_expiry()
        self._write_value(value, measured_at)

    def _measured_at(self, text: str, variables: dict[str, Any] | None) -> datetime | None:
        if self._timestamp.is_plain:
            return None
        if self._timestamp.template is not None:
            raw = self._timestamp.template.async_render(self.hub, variables)
        else:
            raw = self._timestamp.read(self.hub, text, variables)
        measured = to_datetime(raw, self.hub.site.tz)
        if measured - self.hub.clock.now() > _FUTURE_TOLERANCE:
            _LOGGER.warning("%s: source time %s is in the future (a wrong clock at the "
                            "source?); using the time received", self.entity_id,
                            measured.isoformat())
            return None
        return measured

    def _bad_payload(self, kind: str, message: ReceivedMessage, err: Exception) -> None:
        """Log a payload that cannot be used: a warning for the first of a run, then debug."""
        if kind in self._bad_streaks:
            _LOGGER.debug("%s: %s %r on %s ignored: %s", self.entity_id, kind,
                          shown(message.payload), message.topic, err)
            return
        self._bad_streaks.add(kind)
        _LOGGER.warning("%s: %s %r on %s ignored: %s; keeping the last value (more bad ones "
                        "are logged at debug level until a good one arrives)",
                        self.entity_id, kind, shown(message.payload), message.topic, err)

    def _good_payload(self, kind: str, message: ReceivedMessage) -> None:
        if kind in self._bad_streaks:
            self._bad_streaks.discard(kind)
            _LOGGER.info("%s: good %s again on %s", self.entity_id, kind, message.topic)

    def _write_value(self, value: Any, measured_at: datetime | None) -> None:
        """Write the new value; a value measured before the current value is filed as late
        data (the state machine fires `state_backfilled`) and the current value stays."""
        entity_id = self.entity_id or ""
        current = self.hub.states.get(entity_id)
        if (measured_at is not None and current is not None
                and measured_at.timestamp() < current.timestamp
                and current.state not in (STATE_UNKNOWN, STATE_UNAVAILABLE)):
            previous = self._swap_value(value)
            try:
                state = self.state
            finally:
                self._swap_value(previous)
            self.hub.states.async_set(entity_id, STATE_UNKNOWN if state is None else state,
                                      current.attributes, measured_at=measured_at)
            return
        self._swap_value(value)
        self._attr_measured_at = measured_at
        self.async_write_state()
        if self._config["force_update"] and self.hub.states.get(entity_id) is current \
                and current is not None:
            self.hub.states.async_set(entity_id, current.state, current.attributes,
                                      force_update=True, measured_at=measured_at)

    # Attributes ---------------------------------------------------------------------------

    def _on_attributes(self, message: ReceivedMessage) -> None:
        try:
            text = payload_text(message)
            if template := self._config.get("json_attributes_template"):
                text = template.async_render(self.hub, template_variables(text),
                                             parse_result=False)
            data = json.loads(text)
            if not isinstance(data, dict):
                raise PayloadError(f"expected a JSON object, got {type(data).__name__}")
        except (PayloadError, TemplateError, ValueError) as err:
            self._bad_payload("attributes payload", message, err)
            return
        self._good_payload("attributes payload", message)
        previous = self._attr_extra_state_attributes
        self._attr_extra_state_attributes = {
            key: value for key, value in data.items() if key not in _RESERVED_ATTRIBUTES
        }
        try:
            self.async_write_state()
        except InvalidStateError as err:
            self._attr_extra_state_attributes = previous
            self._bad_payload("attributes payload", message, err)
