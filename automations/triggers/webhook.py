"""`webhook` trigger: a call to `/api/webhook/<webhook_id>` (no token: the id is the secret).

Use a long random id (`python -c "import secrets; print(secrets.token_hex(32))"`). The
trigger variable holds `json` (a JSON body), `data` (a form body), `query` and `method`.
Only one automation may use a webhook id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol
from aiohttp import web

from plantpulse.automations.const import CONF_PLATFORM
from plantpulse.automations.triggers import TriggerAction, TriggerInfo
from plantpulse.core.config import validation as cv
from plantpulse.core.events import Context
from plantpulse.core.http.webhook import DEFAULT_METHODS, async_register_webhook

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_METHODS: Final = ("GET", "HEAD", "POST", "PUT")

TRIGGER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_PLATFORM): "webhook",
    vol.Required("webhook_id"): vol.All(cv.string, vol.Length(min=1)),
    vol.Optional("allowed_methods", default=list(DEFAULT_METHODS)): vol.All(
        cv.ensure_list, [vol.All(cv.string, vol.Upper, vol.In(_METHODS))]
    ),
})


async def _request_data(request: web.Request) -> dict[str, Any]:
    body = await request.read()
    result: dict[str, Any] = {"method": request.method, "query": dict(request.query)}
    if not body:
        return result
    if request.content_type == "application/json" or body.lstrip()[:1] in (b"{", b"["):
        try:
            result["json"] = json.loads(body)
            return result
        except ValueError:
            pass
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        result["data"] = dict(await request.post())
    else:
        result["data"] = body.decode("utf-8", "replace")
    return result


def async_attach_trigger(
    hub: Hub, config: dict[str, Any], action: TriggerAction, info: TriggerInfo
) -> Callable[[], None]:
    """Register the webhook; each call fires with the request's data."""
    webhook_id: str = config["webhook_id"]
    trigger_data = info.trigger_data

    async def handle(_hub: Hub, hook_id: str, request: web.Request) -> None:
        action({**trigger_data, "platform": "webhook", "webhook_id": hook_id,
                **await _request_data(request),
                "description": "webhook"}, Context())

    try:
        return async_register_webhook(hub, webhook_id, handle, name=f"{info.domain} {info.name}",
                                      allowed_methods=config["allowed_methods"])
    except ValueError:
        raise ValueError(
            f"webhook id {webhook_id[:8]}... is already used by another webhook: give each "
            "automation its own id"
        ) from None
