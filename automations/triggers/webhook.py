"""`webhook` trigger: a call to `/api/webhook/<webhook_id>` (no token: the id is the secret).

Use a long random id (`python -c "import secrets; print(secrets.token_hex(32))"`). The
trigger variable holds `json` (a JSON body), `data` (a form body), `query` and `method`.
Only one automation may use a webhook id. `local_only` (default true, as in Home Assistant)
ignores calls from outside the local networks (private, loopback and link-local addresses).
"""

from __future__ import annotations

import ipaddress
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
from plantpulse.core.http.view import client_ip_of
from plantpulse.core.http.webhook import DEFAULT_METHODS, async_register_webhook

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_METHODS: Final = ("GET", "HEAD", "POST", "PUT")
# Private networks (RFC 1918, IPv6 unique local); not the documentation or carrier ranges
# Python's `is_private` also counts.
_LOCAL: Final = tuple(ipaddress.ip_network(network) for network in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
))

TRIGGER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_PLATFORM): "webhook",
    vol.Required("webhook_id"): vol.All(cv.string, vol.Length(min=1)),
    vol.Optional("allowed_methods", default=list(DEFAULT_METHODS)): vol.All(
        cv.ensure_list, [vol.All(cv.string, vol.Upper, vol.In(_METHODS))]
    ),
    vol.Optional("local_only", default=True): cv.boolean,
})


def is_local(address: str) -> bool:
    """Whether a caller's address is on a local network (or the machine itself)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or any(ip in network for network in _LOCAL)


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
    local_only: bool = config["local_only"]
    trigger_data = info.trigger_data

    async def handle(_hub: Hub, hook_id: str, request: web.Request) -> None:
        if local_only and not is_local(caller := client_ip_of(request)):
            _LOGGER.warning("%s %s: webhook call from %s ignored: it is local_only",
                            info.domain, info.name, caller)
            return
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
