"""REST routes that integrations add while the server already runs.

aiohttp freezes its router when the server starts, and integrations are set up after http.
They register with `async_register_api_view(hub, "GET", "/api/traces/{item_id}", handler,
role)`; one catch-all route under `/api/` finds the view, checks the role and calls
`await handler(request, **path_parameters)`. Documented in `/api/openapi.json`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from plantpulse.core.auth.const import Role
from plantpulse.core.http.security import is_api_path
from plantpulse.core.http.view import access, hub_of, message_response, user_of

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

ViewHandler = Callable[..., Awaitable[web.StreamResponse]]
_DATA_KEY: Final = "http.api_views"
_PARAMETER: Final = re.compile(r"\{(\w+)\}")
_CATCH_ALL: Final = "/api/{tail:.+}"
_CATCH_ALL_CANONICAL: Final = "/api/{tail}"

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class ApiView:
    """A REST route added by an integration."""

    method: str
    path: str
    pattern: re.Pattern[str]
    handler: ViewHandler
    role: Role


def async_register_api_view(
    hub: Hub, method: str, path: str, handler: ViewHandler, role: Role = Role.VIEWER
) -> Callable[[], None]:
    """Serve `method path` (e.g. `GET /api/traces/{item_id}`) with `handler`; returns remove.

    Path parameters in braces match one path segment and are passed as keyword arguments.
    """
    if not path.startswith("/api/"):
        raise ValueError(f"an integration's REST path must start with /api/, not {path!r}")
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part)
        for index, part in enumerate(_PARAMETER.split(path))
    )
    view = ApiView(method.upper(), path, re.compile(regex), handler, role)
    views: list[ApiView] = hub.data.setdefault(_DATA_KEY, [])
    views.append(view)
    return lambda: views.remove(view) if view in views else None


def api_views(hub: Hub) -> list[ApiView]:
    """The routes integrations registered."""
    return list(hub.data.get(_DATA_KEY, []))


@routes.route("*", _CATCH_ALL)
@access(Role.VIEWER)
async def dispatch(request: web.Request) -> web.StreamResponse:
    """Find the integration's view for this path and method; check its role; call it."""
    matches = [
        (view, match) for view in api_views(hub_of(request))
        if (match := view.pattern.fullmatch(request.path)) is not None
    ]
    if not matches:
        if allowed := await _built_in_methods(request):
            return message_response(
                f"Method {request.method} is not allowed here (allowed: "
                f"{', '.join(sorted(allowed))}).", HTTPStatus.METHOD_NOT_ALLOWED,
            )
        return message_response("Not found.", HTTPStatus.NOT_FOUND)
    for view, match in matches:
        if view.method == request.method:
            user = user_of(request)
            if not user.role.allows(view.role):
                return message_response(
                    f"Your role ({user.role}) may not do this: it needs {view.role} or above.",
                    HTTPStatus.FORBIDDEN,
                )
            parameters: dict[str, Any] = match.groupdict()
            return await view.handler(request, **parameters)
    return message_response(f"Method {request.method} is not allowed here.",
                            HTTPStatus.METHOD_NOT_ALLOWED)


async def _built_in_methods(request: web.Request) -> set[str]:
    """Methods a built-in route takes at this path (the catch-all hides aiohttp's 405)."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        if resource.canonical == _CATCH_ALL_CANONICAL or not is_api_path(resource.canonical):
            continue
        match, methods = await resource.resolve(request)
        if match is None:
            allowed.update(methods)
    return allowed
