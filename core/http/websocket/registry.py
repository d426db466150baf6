"""The table of WebSocket commands; integrations add their own with `async_register_command`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.auth.const import Role

if TYPE_CHECKING:
    from plantpulse.core.http.websocket.connection import ActiveConnection
    from plantpulse.core.hub import Hub

_DATA_KEY: Final = "websocket_api.commands"

CommandHandler = Callable[["ActiveConnection", int, dict[str, Any]], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class Command:
    """A command: its handler, the schema of its fields (besides id and type), the role needed.

    A plain-function handler runs at once, in message order; a coroutine function runs as a
    task, so a slow query does not hold up the connection's other messages.
    """

    handler: CommandHandler
    schema: vol.Schema
    role: Role


def async_register_command(
    hub: Hub,
    command_type: str,
    handler: CommandHandler,
    schema: Mapping[Any, Any] | None = None,
    role: Role = Role.VIEWER,
) -> None:
    """Add (or replace) the command `command_type`; unknown fields in a message are refused."""
    commands: dict[str, Command] = hub.data.setdefault(_DATA_KEY, {})
    commands[command_type] = Command(handler, vol.Schema(dict(schema or {})), role)


def commands_of(hub: Hub) -> dict[str, Command]:
    """Every registered command by type."""
    return hub.data.get(_DATA_KEY, {})
