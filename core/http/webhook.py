"""Webhooks: `/api/webhook/<id>` runs a registered handler; the unguessable id is the secret.

Calls need no token. An unknown id, a method the webhook does not accept, and a handler
error all answer 200 with an empty body (as Home Assistant does), so a caller cannot probe
which ids exist; the hub log tells the owner what happened.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from aiohttp import web

from plantpulse.core.http.view import Open, access, client_ip_of, hub_of

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

_DATA_KEY: Final = "http.webhooks"
DEFAULT_METHODS: Final = ("POST", "PUT")

WebhookHandler = Callable[["Hub", str, web.Request], Awaitable[web.StreamResponse | None]]

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered webhook: who owns it (for the log), its handler, the methods it takes."""

    name: str
    handler: WebhookHandler
    allowed_methods: frozenset[str]


def async_generate_webhook_id() -> str:
    """A new unguessable webhook id (256 random bits)."""
    return secrets.token_hex(32)


def async_register_webhook(
    hub: Hub,
    webhook_id: str,
    handler: WebhookHandler,
    *,
    name: str = "",
    allowed_methods: Iterable[str] = DEFAULT_METHODS,
) -> Callable[[], None]:
    """Route `/api/webhook/<webhook_id>` to `await handler(hub, webhook_id, request)`.

    The handler may return a response; None answers 200. Works before the http component is
    set up (calls arrive once it is). Returns a function that unregisters the webhook.
    Raises ValueError when the id is taken.
    """
    hooks: dict[str, Webhook] = hub.data.setdefault(_DATA_KEY, {})
    if webhook_id in hooks:
        raise ValueError(f"Webhook id {webhook_id!r} is already used by {hooks[webhook_id].name}")
    hooks[webhook_id] = Webhook(
        name or webhook_id, handler, frozenset(method.upper() for method in allowed_methods)
    )
    return partial(async_unregister_webhook, hub, webhook_id)


def async_unregister_webhook(hub: Hub, webhook_id: str) -> None:
    """Remove a webhook; later calls to its id do nothing."""
    hub.data.get(_DATA_KEY, {}).pop(webhook_id, None)


@routes.route("*", "/api/webhook/{webhook_id}")
@access(Open.PUBLIC)
async def handle_webhook(request: web.Request) -> web.StreamResponse:
    """Trigger a webhook: no token, its unguessable id is the secret.

    Unknown ids, methods the webhook does not take and handler errors all answer an empty 200.
    """
    hub = hub_of(request)
    webhook_id = request.match_info["webhook_id"]
    hook: Webhook | None = hub.data.get(_DATA_KEY, {}).get(webhook_id)
    if hook is None:
        _LOGGER.warning("Call from %s to unknown webhook %s...", client_ip_of(request),
                        webhook_id[:8])
        return web.Response(status=HTTPStatus.OK)
    if request.method not in hook.allowed_methods:
        _LOGGER.warning("Webhook %s does not accept %s (from %s)", hook.name, request.method,
                        client_ip_of(request))
        return web.Response(status=HTTPStatus.OK)
    try:
        response = await hook.handler(hub, webhook_id, request)
    except Exception:
        _LOGGER.exception("Error in webhook %s", hook.name)
        return web.Response(status=HTTPStatus.OK)
    return response if response is not None else web.Response(status=HTTPStatus.OK)
