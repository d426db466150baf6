"""One WebSocket client: the auth handshake, increasing message ids, a bounded send queue."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from inspect import iscoroutinefunction
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from aiohttp import WSCloseCode, WSMsgType, web

from plantpulse.core.auth.models import TokenProblem
from plantpulse.core.config.errors import humanize_invalid
from plantpulse.core.const import VERSION
from plantpulse.core.exceptions import (
    PlantPulseError,
    ServiceNotFound,
    ServiceValidationError,
    Unauthorized,
)
from plantpulse.core.http.const import MAX_BODY_BYTES
from plantpulse.core.http.view import ApiError, Open, access, client_ip_of, http_of
from plantpulse.core.http.websocket.registry import Command, commands_of
from plantpulse.core.jsonenc import json_dumps

if TYPE_CHECKING:
    from plantpulse.core.auth.models import User
    from plantpulse.core.http.server import HubHTTP

_LOGGER = logging.getLogger(__name__)

# Messages waiting for a client; a client this far behind is cut off (as Home Assistant does).
MAX_PENDING_MESSAGES: Final = 4096
AUTH_TIMEOUT: Final = 10.0
HEARTBEAT: Final = 55.0
FLUSH_TIMEOUT: Final = 5.0

_AUTH_MESSAGES: Final[dict[TokenProblem | None, str]] = {
    TokenProblem.EXPIRED: "The access token has expired: refresh it and connect again.",
    TokenProblem.REVOKED: "The access token was revoked: log in again.",
    TokenProblem.USER_INACTIVE: "This user account is disabled.",
}

routes = web.RouteTableDef()


class ActiveConnection:
    """The server side of one WebSocket: reads commands, writes results and events in order."""

    def __init__(self, http: HubHTTP, request: web.Request) -> None:
        self.http = http
        self.hub = http.hub
        self.request = request
        self.ip = client_ip_of(request)
        self.ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_BODY_BYTES)
        self.user: User | None = None
        self.refresh_token_id: str | None = None
        self.subscriptions: dict[int, Callable[[], None]] = {}
        self._last_id = 0
        self._queue: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    @property
    def current_user(self) -> User:
        """The authenticated user (commands run only after authentication)."""
        assert self.user is not None
        return self.user

    async def async_handle(self) -> web.WebSocketResponse:
        """Serve the connection until the client or the hub closes it."""
        await self.ws.prepare(self.request)
        self._writer = self.hub.loop.create_task(self._async_write(), name="websocket writer")
        self.http.websockets.add(self)
        try:
            if await self._async_authenticate():
                await self._async_read()
        finally:
            self.http.websockets.discard(self)
            for unsubscribe in self.subscriptions.values():
                unsubscribe()
            self.subscriptions.clear()
            await self._async_flush_and_close()
        return self.ws

    # Sending ------------------------------------------------------------------------------

    def send_message(self, message: dict[str, Any] | str) -> None:
        """Queue a message (a dict or ready JSON text); cuts off a client that lags too far."""
        if self._closing:
            return
        if len(self._queue) >= MAX_PENDING_MESSAGES:
            _LOGGER.error(
                "WebSocket client %s (%s) is %d messages behind; closing its connection",
                self.ip, self.user.username if self.user else "not logged in", len(self._queue),
            )
            self._queue.clear()
            self.async_close_soon(WSCloseCode.POLICY_VIOLATION, b"Too many pending messages")
            return
        self._queue.append(message if isinstance(message, str) else json_dumps(message))
        self._wakeup.set()

    def send_result(self, msg_id: int, result: Any = None) -> None:
        """Answer a command successfully."""
        self.send_message({"id": msg_id, "type": "result", "success": True, "result": result})

    def send_error(self, msg_id: int | None, code: str, message: str) -> None:
        """Answer a command with an error code and a message a person can act on."""
        self.send_message({
            "id": msg_id, "type": "result", "success": False,
            "error": {"code": code, "message": message},
        })

    def send_event(self, msg_id: int, event: Any) -> None:
        """Send an event to subscription `msg_id`."""
        self.send_message({"id": msg_id, "type": "event", "event": event})

    async def _async_write(self) -> None:
        queue = self._queue
        try:
            while True:
                if not queue:
                    if self._closing:
                        return
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                await self.ws.send_str(queue.popleft())
        except (ConnectionError, RuntimeError):
            queue.clear()

    def async_close_soon(
        self, code: int = WSCloseCode.GOING_AWAY, message: bytes = b""
    ) -> None:
        """Close the connection from outside its reader (revoked token, lagging client)."""
        if self._closing:
            return
        self._closing = True
        self._wakeup.set()
        self.hub.async_create_task(self.ws.close(code=code, message=message), "websocket close")

    async def _async_flush_and_close(self) -> None:
        self._closing = True
        self._wakeup.set()
        if self._writer is not None:
            try:
                await asyncio.wait_for(self._writer, FLUSH_TIMEOUT)
            except TimeoutError:
                _LOGGER.debug("WebSocket client %s did not take its last messages", self.ip)
        await self.ws.close()

    # Receiving ----------------------------------------------------------------------------

    async def _async_authenticate(self) -> bool:
        self.send_message({"type": "auth_required", "version": VERSION})
        try:
            message = await self.ws.receive(timeout=AUTH_TIMEOUT)
        except TimeoutError:
            self.send_message({"type": "auth_invalid",
                               "message": f"No auth message within {AUTH_TIMEOUT:.0f} s."})
            return False
        if message.type is not WSMsgType.TEXT:
            return False
        try:
            data = json.loads(message.data)
        except ValueError:
            data = None
        if (not isinstance(data, dict) or data.get("type") != "auth"
                or not isinstance(data.get("access_token"), str)):
            self.send_message({
                "type": "auth_invalid",
                "message": 'Authenticate first: send {"type": "auth", "access_token": "..."}.',
            })
            return False
        token, user, problem = self.http.auth.async_check_access_token(data["access_token"])
        if problem is not None or user is None or token is None:
            if problem is None or problem.counts_as_attack:
                self.http.async_record_failure(self.ip, "invalid access token on the WebSocket")
            self.send_message({
                "type": "auth_invalid",
                "message": _AUTH_MESSAGES.get(problem, "Invalid access token."),
            })
            return False
        self.user, self.refresh_token_id = user, token.id
        self.send_message({"type": "auth_ok", "version": VERSION})
        return True

    async def _async_read(self) -> None:
        async for message in self.ws:
            if message.type is WSMsgType.TEXT:
                self._handle_text(message.data)
            elif message.type is WSMsgType.BINARY:
                self.send_error(None, "invalid_format",
                                "Binary messages are not supported: send JSON text.")
            else:
                break

    def _handle_text(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            self.send_error(None, "invalid_format", "Message is not valid JSON.")
            return
        for message in data if isinstance(data, list) else [data]:
            self._handle_message(message)

    def _handle_message(self, message: Any) -> None:
        msg_id = message.get("id") if isinstance(message, dict) else None
        if type(msg_id) is not int or not isinstance(message.get("type"), str):
            self.send_error(
                msg_id if type(msg_id) is int else None, "invalid_format",
                'Message incorrectly formatted: expected {"id": <increasing integer>, '
                '"type": "<command>", ...}.',
            )
            return
        if msg_id <= self._last_id:
            self.send_error(msg_id, "id_reuse", "Identifier values have to increase.")
            return
        self._last_id = msg_id
        command_type = message["type"]
        if command_type == "ping":
            self.send_message({"id": msg_id, "type": "pong"})
            return
        command = commands_of(self.hub).get(command_type)
        if command is None:
            self.send_error(msg_id, "unknown_command", f"Unknown command {command_type}.")
            return
        if not self.current_user.role.allows(command.role):
            self.send_error(
                msg_id, "unauthorized",
                f"Your role ({self.current_user.role}) may not use {command_type}: it needs "
                f"{command.role} or above.",
            )
            return
        try:
            data = command.schema({k: v for k, v in message.items() if k not in ("id", "type")})
        except vol.Invalid as err:
            self.send_error(msg_id, "invalid_format", f"{humanize_invalid(err)}.")
            return
        if iscoroutinefunction(command.handler):
            self.hub.async_create_task(self._async_run(command, msg_id, data),
                                       f"websocket {command_type}")
        else:
            self._run(command, msg_id, data)

    def _run(self, command: Command, msg_id: int, data: dict[str, Any]) -> None:
        try:
            command.handler(self, msg_id, data)
        except Exception as err:  # answered to the client; see _report
            self._report(msg_id, err)

    async def _async_run(self, command: Command, msg_id: int, data: dict[str, Any]) -> None:
        try:
            result = command.handler(self, msg_id, data)
            if result is not None:
                await result
        except Exception as err:  # answered to the client; see _report
            self._report(msg_id, err)

    def _report(self, msg_id: int, err: Exception) -> None:
        """Answer a failed command with an error code; log only what is unexpected."""
        if isinstance(err, ApiError):
            self.send_error(msg_id, err.code, err.message)
        elif isinstance(err, ServiceNotFound):
            self.send_error(msg_id, "not_found", f"{err}.")
        elif isinstance(err, ServiceValidationError):
            self.send_error(msg_id, "service_validation_error", str(err))
        elif isinstance(err, vol.Invalid):
            self.send_error(msg_id, "invalid_format", humanize_invalid(err))
        elif isinstance(err, Unauthorized):
            self.send_error(msg_id, "unauthorized", str(err) or "Unauthorized.")
        elif isinstance(err, PlantPulseError):
            self.send_error(msg_id, "hub_error", str(err))
        else:
            _LOGGER.error("Error in WebSocket command %s", msg_id, exc_info=err)
            self.send_error(msg_id, "unknown_error",
                            "Unexpected error; the hub log has the details.")


@routes.get("/api/websocket")
@access(Open.PUBLIC)
async def websocket_endpoint(request: web.Request) -> web.WebSocketResponse:
    """Upgrade to a WebSocket; authentication happens inside it, as in Home Assistant."""
    return await ActiveConnection(http_of(request), request).async_handle()
