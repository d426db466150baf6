"""Fixtures for notification tests: started SMTP and JSON servers on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.integrations.notify.servers import JsonReceiver, SmtpServer


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
