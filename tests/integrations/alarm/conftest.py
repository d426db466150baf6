"""Fixtures for alarm tests: notification receivers, and a hub serving its HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from plantpulse.core.clock import Clock
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory, free_port
from tests.core.http.conftest import Api, http_yaml
from tests.integrations.notify.servers import JsonReceiver, SmtpServer

ApiHub = Callable[..., Awaitable[Api]]


@pytest.fixture
async def receiver() -> AsyncIterator[JsonReceiver]:
    """A JSON web hook receiver, listening."""
    server = JsonReceiver()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    """A plain SMTP server with one account, listening."""
    server = SmtpServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def api_hub(hub_factory: HubFactory) -> AsyncIterator[ApiHub]:
    """`await api_hub(extra_yaml, clock=...)`: a started hub with http on a free port."""
    sessions: list[aiohttp.ClientSession] = []

    async def make(extra_yaml: str, clock: Clock | None = None) -> Api:
        port = free_port()
        hub: Hub = await hub_factory(http_yaml(port, extra_yaml), clock=clock)
        assert "http" in hub.components, hub.notifications.all()
        session = aiohttp.ClientSession()
        sessions.append(session)
        return Api(hub, f"http://127.0.0.1:{port}", session)

    yield make
    for session in sessions:
        await session.close()


def events_of(hub: Hub, *event_types: str) -> list[tuple[str, dict[str, Any]]]:
    """Collect `(event_type, data)` of the given events from now on."""
    seen: list[tuple[str, dict[str, Any]]] = []
    for event_type in event_types:
        hub.bus.async_listen(event_type,
                             lambda event: seen.append((event.event_type, dict(event.data))))
    return seen
