"""Middlewares: JSON errors without tracebacks, CORS, client addresses, bans and bearer tokens."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Iterable
from http import HTTPStatus
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Final

from aiohttp import hdrs, web

from plantpulse.core.auth.const import Role
from plantpulse.core.auth.models import TokenProblem
from plantpulse.core.exceptions import StorageError, Unauthorized
from plantpulse.core.http.const import MAX_BODY_BYTES
from plantpulse.core.http.view import (
    KEY_CLIENT_IP,
    KEY_REFRESH_TOKEN,
    KEY_USER,
    ApiError,
    Handler,
    Open,
    access_of,
    http_of,
    message_response,
)

_LOGGER = logging.getLogger(__name__)

_API_PREFIXES: Final = ("/api/", "/auth/")
_KEPT_HEADERS: Final = (hdrs.ALLOW, hdrs.RETRY_AFTER, hdrs.WWW_AUTHENTICATE)
_TOKEN_MESSAGES: Final[dict[TokenProblem | None, str]] = {
    TokenProblem.EXPIRED: "The access token has expired: get a new one from /auth/token "
                          "with your refresh token.",
    TokenProblem.REVOKED: "The access token was revoked: log in again.",
    TokenProblem.USER_INACTIVE: "This user account is disabled.",
}

Network = IPv4Network | IPv6Network
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


def is_api_path(path: str) -> bool:
    """Whether errors on this path are answered as JSON (API and login) or plain text."""
    return path.startswith(_API_PREFIXES) or path == "/api"


def _describe(exc: web.HTTPException, request: web.Request) -> str:
    if exc.status == HTTPStatus.NOT_FOUND:
        return "Not found."
    if exc.status == HTTPStatus.METHOD_NOT_ALLOWED:
        return f"Method {request.method} is not allowed on {request.path}."
    if exc.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        return f"The request body is larger than the limit of {MAX_BODY_BYTES // 1024} KiB."
    return exc.reason


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn API errors into `{"message"}` JSON; log unexpected ones, never leak tracebacks."""
    try:
        return await handler(request)
    except ApiError as err:
        return message_response(err.message, err.status)
    except Unauthorized as err:
        return message_response(str(err), HTTPStatus.FORBIDDEN)
    except StorageError as err:
        _LOGGER.error("%s", err)
        return message_response(str(err), HTTPStatus.SERVICE_UNAVAILABLE)
    except web.HTTPException as exc:
        if exc.status < HTTPStatus.BAD_REQUEST or not is_api_path(request.path):
            raise
        kept = {name: exc.headers[name] for name in _KEPT_HEADERS if name in exc.headers}
        return message_response(_describe(exc, request), exc.status, kept)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        _LOGGER.exception("Error handling %s %s", request.method, request.path)
        return message_response(
            "Internal error while handling the request; the hub log has the details.",
            HTTPStatus.INTERNAL_SERVER_ERROR,
        )


def cors_middleware(origins: Iterable[str]) -> Middleware:
    """Allow browsers on the listed origins to call the API (preflight answered here)."""
    allowed = frozenset(origin.rstrip("/") for origin in origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        if origin is None or origin not in allowed:
            return await handler(request)
        if (request.method == hdrs.METH_OPTIONS
                and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers):
            return web.Response(headers={
                hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: origin,
                hdrs.ACCESS_CONTROL_ALLOW_METHODS: "GET, POST, PUT, PATCH, DELETE",
                hdrs.ACCESS_CONTROL_ALLOW_HEADERS: "Authorization, Content-Type",
                hdrs.ACCESS_CONTROL_MAX_AGE: "600",
                hdrs.VARY: hdrs.ORIGIN,
            })
        response = await handler(request)
        if not response.prepared:
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
            response.headers[hdrs.VARY] = hdrs.ORIGIN
        return response

    return middleware


def client_ip(request: web.Request, trusted_proxies: list[Network], use_forwarded: bool) -> str:
    """The caller's address: the peer, or behind a trusted proxy the nearest untrusted hop."""
    peer = request.remote or "unknown"
    if not use_forwarded or not trusted_proxies:
        return peer
    try:
        peer_address = ip_address(peer)
    except ValueError:
        return peer
    if not any(peer_address in network for network in trusted_proxies):
        return peer
    hops = [
        hop.strip() for header in request.headers.getall(hdrs.X_FORWARDED_FOR, [])
        for hop in header.split(",") if hop.strip()
    ]
    for hop in reversed(hops):
        try:
            address = ip_address(hop)
        except ValueError:
            return peer
        if not any(address in network for network in trusted_proxies):
            return str(address)
    return hops[0] if hops else peer


@web.middleware
async def security_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse banned addresses (429) and requests without a valid token (401) or role (403)."""
    http = http_of(request)
    ip = client_ip(request, http.trusted_proxies, http.use_x_forwarded_for)
    request[KEY_CLIENT_IP] = ip
    level = access_of(request.match_info.handler)
    if level is Open.STATIC:
        return await handler(request)
    if (retry_after := http.retry_after(ip)) > 0:
        minutes = math.ceil(retry_after / 60)
        return message_response(
            f"Too many failed logins or invalid tokens from {ip}: try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''}.",
            HTTPStatus.TOO_MANY_REQUESTS, {hdrs.RETRY_AFTER: str(math.ceil(retry_after))},
        )
    if level is Open.PUBLIC:
        return await handler(request)
    scheme, _, value = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return message_response(
            "Log in first: send the header 'Authorization: Bearer <access token>'.",
            HTTPStatus.UNAUTHORIZED, {hdrs.WWW_AUTHENTICATE: "Bearer"},
        )
    token, user, problem = http.auth.async_check_access_token(value.strip())
    if problem is not None or user is None:
        if problem is None or problem.counts_as_attack:
            http.async_record_failure(ip, "invalid access token")
        return message_response(
            _TOKEN_MESSAGES.get(problem, "Invalid access token."),
            HTTPStatus.UNAUTHORIZED, {hdrs.WWW_AUTHENTICATE: 'Bearer error="invalid_token"'},
        )
    assert isinstance(level, Role)
    if not user.role.allows(level):
        return message_response(
            f"Your role ({user.role}) may not do this: it needs {level} or above.",
            HTTPStatus.FORBIDDEN,
        )
    request[KEY_USER] = user
    request[KEY_REFRESH_TOKEN] = token
    return await handler(request)
