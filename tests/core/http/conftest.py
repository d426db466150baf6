"""Fixtures for the HTTP API: a hub serving on 127.0.0.1 and a client that logs in as a role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import pytest

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.const import Role
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory, free_port

PASSWORD: Final = "correct horse 42"



def http_yaml(port: int, extra: str = "", http_extra: str = "") -> str:
    """A configuration serving HTTP on 127.0.0.1:`port` (plus `extra` top-level YAML)."""
    return (
        "http:\n  server_host: 127.0.0.1\n"
        f"  server_port: {port}\n{http_extra}{extra}"
    )


@dataclass
class Api:
    """A real aiohttp client talking to a real hub, with helpers to log in as each role."""

    hub: Hub
    base: str
    session: aiohttp.ClientSession

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    async def add_user(self, username: str, role: Role, name: str | None = None) -> None:
        await self.hub.data["auth"].async_create_user(Actor("test"), username, PASSWORD, role,
                                                      name)

    async def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        async with self.session.post(self.url("/auth/token"), data={
            "grant_type": "password", "username": username, "password": password,
            "client_id": "http://test/",
        }) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def token_for(self, role: Role) -> str:
        """An access token of a fresh user with `role`."""
        username = f"{role}{len(self.hub.data['auth'].data.users)}"
        await self.add_user(username, role)
        return (await self.login(username))["access_token"]

    async def request(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        """Status and decoded JSON body (text when it is not JSON)."""
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(method, self.url(path), headers=headers,
                                        **kwargs) as response:
            text = await response.text()
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, text


@pytest.fixture
async def api_factory(hub_factory: HubFactory) -> AsyncIterator[Any]:
    """`await api_factory(extra_yaml="", http_extra="")` → Api on a started hub."""
    sessions: list[aiohttp.ClientSession] = []

    async def factory(extra_yaml: str = "", http_extra: str = "") -> Api:
        port = free_port()
        hub = await hub_factory(http_yaml(port, extra_yaml, http_extra))
        assert "http" in hub.components, hub.notifications.all()
        session = aiohttp.ClientSession()
        sessions.append(session)
        return Api(hub, f"http://127.0.0.1:{port}", session)

    yield factory
    for session in sessions:
        await session.close()


@pytest.fixture
async def api(api_factory: Any) -> Api:
    """A hub with http on a free port and no users."""
    return await api_factory()
