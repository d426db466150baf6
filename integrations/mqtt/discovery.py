"""Home Assistant MQTT discovery: entities and devices that announce themselves.

A gateway publishes (usually retained) a JSON config to
`<prefix>/<component>/[<node_id>/]<object_id>/config`; PlantPulse creates the sensor or binary
sensor it describes, with its device in the device registry. A new config for the same topic
replaces the entity (its entity id stays, frozen by `unique_id`); an empty payload removes it.
Device-based discovery (`<prefix>/device/<object_id>/config` with `dev`, `o` and `cmps`, each
component naming its `platform`) creates every component of the device in one message; a
component left out or reduced to its `platform` is removed. Abbreviated keys and the `~` base
topic are expanded first (abbreviations.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config.errors import humanize_invalid
from plantpulse.integrations.mqtt.abbreviations import expand
from plantpulse.integrations.mqtt.client import MqttConnection, ReceivedMessage
from plantpulse.integrations.mqtt.entity import DOMAIN, MqttEntity, shown
from plantpulse.integrations.mqtt.schema import PLATFORM_SCHEMAS

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DEVICE_COMPONENT: Final = "device"
DISCOVERY_SCHEMAS: Final = {
    platform: schema.extend({}, extra=vol.REMOVE_EXTRA)
    for platform, schema in PLATFORM_SCHEMAS.items()
}
_DEVICE_ONLY_KEYS: Final = frozenset({"components", "device", "origin", "platform"})

EntityFactory = Callable[[str, Mapping[str, Any]], MqttEntity]
# (platform, discovery id): one discovered entity.
DiscoveryKey = tuple[str, str]


def parse_discovery_topic(prefix: str, topic: str) -> tuple[str, str] | None:
    """(component, discovery id) of a discovery topic; the id is `[node_id ]object_id`."""
    if not topic.startswith(prefix + "/"):
        return None
    levels = topic[len(prefix) + 1:].split("/")
    if len(levels) not in (3, 4) or levels[-1] != "config" or not all(levels):
        return None
    return levels[0], " ".join(levels[1:-1])


class Discovery:
    """Listens on the discovery prefix and keeps discovered entities in step with it."""

    def __init__(
        self, hub: Hub, connection: MqttConnection, prefix: str, factory: EntityFactory
    ) -> None:
        self._hub = hub
        self._connection = connection
        self.prefix = prefix
        self._factory = factory
        self._entities: dict[DiscoveryKey, MqttEntity] = {}
        self._device_parts: dict[str, set[DiscoveryKey]] = {}
        self._lock = asyncio.Lock()
        self._unsupported: set[str] = set()

    @property
    def entities(self) -> Mapping[DiscoveryKey, MqttEntity]:
        """The discovered entities by (platform, discovery id)."""
        return self._entities

    def async_start(self) -> Callable[[], None]:
        """Subscribe to the discovery topics; returns a function that unsubscribes."""
        removers = [
            self._connection.async_subscribe(f"{self.prefix}/+/+/config", self._received),
            self._connection.async_subscribe(f"{self.prefix}/+/+/+/config", self._received),
        ]

        def stop() -> None:
            for remove in removers:
                remove()

        return stop

    def _received(self, message: ReceivedMessage) -> None:
        parsed = parse_discovery_topic(self.prefix, message.topic)
        if parsed is None:
            return
        component, discovery_id = parsed
        if component != DEVICE_COMPONENT and component not in DISCOVERY_SCHEMAS:
            if component not in self._unsupported:
                self._unsupported.add(component)
                _LOGGER.info("MQTT discovery of %s entities (%s) is not supported; only "
                             "sensor and binary_sensor", component, message.topic)
            return
        # One at a time, in arrival order: a config and its removal must not overtake.
        self._hub.async_create_task(self._async_handle(component, discovery_id, message),
                                    f"mqtt discovery {message.topic}")

    async def _async_handle(
        self, component: str, discovery_id: str, message: ReceivedMessage
    ) -> None:
        async with self._lock:
            if not message.payload:
                if component == DEVICE_COMPONENT:
                    for key in self._device_parts.pop(discovery_id, set()):
                        await self._async_remove(key)
                else:
                    await self._async_remove((component, discovery_id))
                return
            payload = self._decode(message)
            if payload is None:
                return
            if component == DEVICE_COMPONENT:
                await self._async_device(discovery_id, payload, message.topic)
            else:
                await self._async_update((component, discovery_id), payload, message.topic)

    @staticmethod
    def _decode(message: ReceivedMessage) -> dict[str, Any] | None:
        try:
            payload = json.loads(message.payload)
        except ValueError as err:
            _LOGGER.warning("MQTT discovery %s: payload %r is not JSON (%s); ignored",
                            message.topic, shown(message.payload), err)
            return None
        if not isinstance(payload, dict):
            _LOGGER.warning("MQTT discovery %s: expected a JSON object; ignored", message.topic)
            return None
        return expand(payload)

    async def _async_device(self, discovery_id: str, payload: dict[str, Any], topic: str) -> None:
        components = payload.get("components")
        if not isinstance(components, dict) or not isinstance(payload.get("device"), dict):
            _LOGGER.warning("MQTT discovery %s: a device config needs 'device' and "
                            "'components' mappings; ignored", topic)
            return
        shared = {key: value for key, value in payload.items() if key not in _DEVICE_ONLY_KEYS}
        wanted: set[DiscoveryKey] = set()
        for part, config in components.items():
            if not isinstance(config, dict) or config.get("platform") not in DISCOVERY_SCHEMAS:
                platform = config.get("platform") if isinstance(config, dict) else None
                _LOGGER.info("MQTT discovery %s: component %s (platform %s) is not supported; "
                             "only sensor and binary_sensor", topic, part, platform)
                continue
            key = (config["platform"], f"{discovery_id} {part}")
            if set(config) == {"platform"}:
                continue  # a component reduced to its platform is removed
            wanted.add(key)
            merged = {**shared, **config, "device": payload["device"]}
            await self._async_update(key, merged, f"{topic} component {part}")
        for key in self._device_parts.get(discovery_id, set()) - wanted:
            await self._async_remove(key)
        self._device_parts[discovery_id] = wanted

    async def _async_update(self, key: DiscoveryKey, payload: dict[str, Any], where: str) -> None:
        platform = key[0]
        try:
            config = DISCOVERY_SCHEMAS[platform](payload)
        except vol.Invalid as err:
            _LOGGER.warning("MQTT discovery %s: invalid %s config: %s; ignored", where,
                            platform, humanize_invalid(err))
            return
        existing = self._entities.get(key)
        if existing is not None:
            if existing.config == config:
                return
            await self._async_remove(key, forget=False)
        entity = self._factory(platform, config)
        added = await self._hub.entities.async_add(DOMAIN, [entity])
        if added:
            self._entities[key] = entity
            _LOGGER.info("MQTT discovery %s: %s %s", where,
                         "updated" if existing is not None else "added", entity.entity_id)

    async def _async_remove(self, key: DiscoveryKey, forget: bool = True) -> None:
        entity = self._entities.pop(key, None)
        if entity is None or entity.entity_id is None:
            return
        await self._hub.entities.async_remove(entity.entity_id)
        if forget and entity.registry_entry is not None:
            self._hub.entity_registry.async_remove(entity.entity_id)
        if forget:
            _LOGGER.info("MQTT discovery: removed %s", entity.entity_id)
