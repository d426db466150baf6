"""What request handlers share: access levels, JSON in and out, errors, the caller's identity."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final, TypeVar

from aiohttp import web

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.const import Role
from plantpulse.core.events import Context
from plantpulse.core.jsonenc import json_dumps

if TYPE_CHECKING:
    from plantpulse.core.auth.models import RefreshToken, User
    from plantpulse.core.http.server import HubHTTP
    from plantpulse.core.hub import Hub

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_H = TypeVar("_H", bound=Handler)

HTTP_KEY: Final[web.AppKey[HubHTTP]] = web.AppKey("plantpulse_http")
# Set by the security middleware.
KEY_USER: Final[web.RequestKey[User]] = web.RequestKey("plantpulse_user")
KEY_REFRESH_TOKEN: Final[web.RequestKey[RefreshToken]] = web.RequestKey(
    "plantpulse_refresh_token"
)
KEY_CLIENT_IP: Final[web.RequestKey[str]] = web.RequestKey("plantpulse_client_ip", str)
_ACCESS_ATTRIBUTE: Final = "plantpulse_access"


class Open(StrEnum):
    """Access levels of handlers that need no token."""

    STATIC = "static"  # frontend files: served even to banned addresses
    PUBLIC = "public"  # login, onboarding, webhooks, the WebSocket handshake


def access(level: Role | Open) -> Callable[[_H], _H]:
    """Mark a handler with the role it needs (default: any logged-in user) or as open."""

    def mark(handler: _H) -> _H:
        setattr(handler, _ACCESS_ATTRIBUTE, level)
        return handler

    return mark


def access_of(handler: Callable[..., Any]) -> Role | Open:
    """The access level a handler was marked with; unmarked handlers need a viewer's token."""
    return getattr(handler, _ACCESS_ATTRIBUTE, Role.VIEWER)


class ApiError(Exception):
    """A request that cannot be served; REST answers `{"message"}`, WebSocket an error result."""

    def __init__(
        self, message: str, status: int = HTTPStatus.BAD_REQUEST, code: str = "invalid_format"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code


def json_response(
    data: Any, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response; states, events and datetimes serialise through `json_dumps`."""
    return web.Response(
        text=json_dumps(data), status=status, content_type="application/json", headers=headers
    )


def message_response(
    message: str, status: int = HTTPStatus.OK, headers: dict[str, str] | None = None
) -> web.Response:
    """`{"message": ...}`, the shape of Home Assistant's REST errors and notices."""
    return json_response({"message": message}, status, headers)


async def read_json(request: web.Request) -> Any:
    """The request body as JSON; None when empty. Raises ApiError("Invalid JSON.")."""
    body = await request.read()
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError("Invalid JSON.") from None


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is `{}`."""
    data = await read_json(request)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    return data


def http_of(request: web.Request) -> HubHTTP:
    """The http component serving this request."""
    return request.app[HTTP_KEY]


def hub_of(request: web.Request) -> Hub:
    """The hub behind this request."""
    return http_of(request).hub


def user_of(request: web.Request) -> User:
    """The logged-in user (only for handlers that need a token)."""
    return request[KEY_USER]


def refresh_token_of(request: web.Request) -> RefreshToken:
    """The refresh token whose access token the request presented."""
    return request[KEY_REFRESH_TOKEN]


def client_ip_of(request: web.Request) -> str:
    """The caller's address (the forwarded one behind a trusted proxy)."""
    return request.get(KEY_CLIENT_IP) or request.remote or "unknown"


def context_of(request: web.Request) -> Context:
    """A new context for what the caller does, carrying their user id."""
    user = request.get(KEY_USER)
    return Context(user_id=user.id if user is not None else None)


def actor_of(request: web.Request) -> Actor:
    """Who is making a change, for the audit log."""
    user = user_of(request)
    return Actor(user.username, user.id, client_ip_of(request))
