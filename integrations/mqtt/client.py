"""The broker connection: connect, reconnect with backoff, birth and will, subscriptions.

One `MqttConnection` per hub (in `hub.data["mqtt"]`). Subscribers register a topic filter and
a callback; the connection subscribes at the broker, re-subscribes after every reconnect and
calls the callbacks of every matching filter on the event loop. A subscriber that joins a
filter already subscribed makes the connection subscribe again, so the broker sends the
retained messages once more; each subscriber gets a retained message of a topic only once
(as Home Assistant does), so those already subscribed do not see them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import aiomqtt
from aiomqtt.exceptions import MqttConnectError

from plantpulse.core.exceptions import PlantPulseError
from plantpulse.integrations.mqtt.topic import has_wildcard, topic_matches

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

RECONNECT_MIN: Final = 1.0
RECONNECT_MAX: Final = 60.0
STOP_TIMEOUT: Final = 5.0


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message as subscribers see it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


@dataclass(frozen=True, slots=True)
class StatusMessage:
    """A birth or will message."""

    topic: str
    payload: str
    qos: int = 0
    retain: bool = True


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    """Where the broker is and how to announce ourselves."""

    host: str
    port: int = 1883
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    keepalive: int = 60
    birth: StatusMessage | None = None
    will: StatusMessage | None = None


class NotConnectedError(PlantPulseError):
    """A publish while the broker is unreachable."""


MessageCallback = Callable[[ReceivedMessage], None]
ConnectionListener = Callable[[bool], None]


@dataclass(eq=False, slots=True)
class _Subscriber:
    callback: MessageCallback
    qos: int
    retained_seen: set[str] = field(default_factory=set)


class MqttConnection:
    """The hub's client of one broker, kept connected until the hub stops."""

    def __init__(self, hub: Hub, settings: ConnectionSettings) -> None:
        self._hub = hub
        self.settings = settings
        self.connected = False
        self.failures = 0
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None
        self._exact: dict[str, list[_Subscriber]] = {}
        self._wildcard: dict[str, list[_Subscriber]] = {}
        self._listeners: list[ConnectionListener] = []
        self._stopping = False

    # Lifecycle ----------------------------------------------------------------------------

    def async_start(self) -> None:
        """Start connecting in the background; a broker that is down does not hold the hub."""
        self._task = self._hub.async_create_background_task(self._async_run(), "mqtt client")

    async def async_stop(self) -> None:
        """Publish the will's payload (a clean disconnect does not send the will), disconnect."""
        self._stopping = True
        client, will = self._client, self.settings.will
        if client is not None and self.connected and will is not None:
            try:
                await client.publish(will.topic, will.payload, will.qos, will.retain,
                                     timeout=STOP_TIMEOUT)
            except (aiomqtt.MqttError, TimeoutError) as err:
                _LOGGER.debug("Could not publish the offline status: %s", err)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        del client  # so the collection below can finish it
        # A paho client cancelled mid-connect keeps its sockets until it is collected, and
        # then closes them through this loop (aiomqtt issue #377): collect it while the loop
        # still runs, not at some later moment when it is closed.
        gc.collect()
        self._set_connected(False)

    async def _async_run(self) -> None:
        while not self._stopping:
            client = aiomqtt.Client(
                self.settings.host, self.settings.port,
                username=self.settings.username, password=self.settings.password,
                identifier=self.settings.client_id, keepalive=self.settings.keepalive,
                will=self._will(), logger=_LOGGER,
            )
            try:
                async with client:
                    self._client = client
                    await self._async_connected(client)
                    async for message in client.messages:
                        self._dispatch(ReceivedMessage(
                            message.topic.value, _bytes(message.payload), message.qos,
                            message.retain,
                        ))
            except aiomqtt.MqttError as err:
                self._log_failure(err)
            finally:
                self._client = None
                self._set_connected(False)
            delay = min(RECONNECT_MIN * 2 ** min(self.failures, 10), RECONNECT_MAX)
            self.failures += 1
            await self._hub.clock.sleep(delay)

    def _will(self) -> aiomqtt.Will | None:
        will = self.settings.will
        if will is None:
            return None
        return aiomqtt.Will(will.topic, will.payload, will.qos, will.retain)

    async def _async_connected(self, client: aiomqtt.Client) -> None:
        address = f"{self.settings.host}:{self.settings.port}"
        if self.failures:
            _LOGGER.info("Connected to the MQTT broker %s again", address)
        else:
            _LOGGER.info("Connected to the MQTT broker %s", address)
        self.failures = 0
        for table in (self._exact, self._wildcard):
            for subscribers in table.values():
                for subscriber in subscribers:
                    subscriber.retained_seen.clear()  # the broker sends them all again
        filters = self._filters()
        if filters:
            await client.subscribe(filters)
        if (birth := self.settings.birth) is not None:
            await client.publish(birth.topic, birth.payload, birth.qos, birth.retain)
        self._set_connected(True)

    def _log_failure(self, err: aiomqtt.MqttError) -> None:
        address = f"{self.settings.host}:{self.settings.port}"
        if self.connected:
            _LOGGER.warning("Lost the MQTT broker %s (%s); reconnecting", address, err)
        elif self.failures == 0:
            hint = ""
            if isinstance(err, MqttConnectError):
                hint = ": check username and password in the mqtt: block"
            _LOGGER.warning("Cannot connect to the MQTT broker %s (%s)%s; retrying with "
                            "backoff up to %.0f s", address, err, hint, RECONNECT_MAX)
        else:
            _LOGGER.debug("MQTT broker %s still unreachable: %s", address, err)

    def _set_connected(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        for listener in list(self._listeners):
            try:
                listener(connected)
            except Exception:
                _LOGGER.exception("Error in an MQTT connection listener")

    def async_add_connection_listener(self, listener: ConnectionListener) -> Callable[[], None]:
        """Call `listener(connected)` when the connection comes or goes; returns a remover."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    # Subscriptions ------------------------------------------------------------------------

    def _filters(self) -> list[tuple[str, int]]:
        return [
            (topic_filter, max(subscriber.qos for subscriber in subscribers))
            for table in (self._exact, self._wildcard)
            for topic_filter, subscribers in table.items()
        ]

    def async_subscribe(
        self, topic_filter: str, callback: MessageCallback, qos: int = 0
    ) -> Callable[[], None]:
        """Call `callback` with every message matching `topic_filter`; returns an unsubscribe."""
        table = self._wildcard if has_wildcard(topic_filter) else self._exact
        subscriber = _Subscriber(callback, qos)
        table.setdefault(topic_filter, []).append(subscriber)
        if self._client is not None:  # else the next connection subscribes
            qos = max(item.qos for item in table[topic_filter])
            self._hub.async_create_task(self._async_broker_call(
                "subscribe", topic_filter, qos), f"mqtt subscribe {topic_filter}")

        def unsubscribe() -> None:
            current = table.get(topic_filter)
            if current is None or subscriber not in current:
                return
            current.remove(subscriber)
            if current:
                return
            del table[topic_filter]
            if self._client is not None and not self._stopping:
                self._hub.async_create_task(self._async_broker_call(
                    "unsubscribe", topic_filter), f"mqtt unsubscribe {topic_filter}")

        return unsubscribe

    async def _async_broker_call(self, method: str, topic_filter: str, *args: int) -> None:
        client = self._client
        if client is None:
            return  # the next connection subscribes to every filter
        try:
            await getattr(client, method)(topic_filter, *args)
        except aiomqtt.MqttError as err:
            _LOGGER.debug("MQTT %s %s failed (%s); done again on reconnect", method,
                          topic_filter, err)

    def _dispatch(self, message: ReceivedMessage) -> None:
        topic = message.topic
        for subscriber in list(self._exact.get(topic, ())):
            self._call(subscriber, message)
        for topic_filter, subscribers in list(self._wildcard.items()):
            if topic_matches(topic_filter, topic):
                for subscriber in list(subscribers):
                    self._call(subscriber, message)

    @staticmethod
    def _call(subscriber: _Subscriber, message: ReceivedMessage) -> None:
        if message.retain:
            if message.topic in subscriber.retained_seen:
                return  # sent again for a newer subscriber of the same filter
            subscriber.retained_seen.add(message.topic)
        try:
            subscriber.callback(message)
        except Exception:
            _LOGGER.exception("Error handling MQTT message on %s", message.topic)

    # Publishing ---------------------------------------------------------------------------

    async def async_publish(
        self, topic: str, payload: str | bytes, qos: int = 0, retain: bool = False
    ) -> None:
        """Publish a message; raises NotConnectedError while the broker is unreachable."""
        client = self._client
        if client is None or not self.connected:
            raise NotConnectedError(
                f"cannot publish to {topic}: not connected to the MQTT broker "
                f"{self.settings.host}:{self.settings.port}"
            )
        try:
            await client.publish(topic, payload, qos, retain)
        except aiomqtt.MqttError as err:
            raise NotConnectedError(f"cannot publish to {topic}: {err}") from err


def _bytes(payload: object) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, bytearray):
        return bytes(payload)
    if payload is None:
        return b""
    return str(payload).encode()
