"""The `http:` component: REST and WebSocket APIs, login and the web UI on one aiohttp server.

`http:` alone means defaults: port 8130 on all interfaces (IPv4 and, where the machine has
it, IPv6). aiohttp and the auth code are imported only when the component is set up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.auth.const import (
    DEFAULT_IP_BAN_MINUTES,
    DEFAULT_LOGIN_ATTEMPTS_THRESHOLD,
    DEFAULT_LOGIN_ATTEMPTS_WINDOW_MINUTES,
)
from plantpulse.core.config import validation as cv
from plantpulse.core.const import DEFAULT_HTTP_PORT
from plantpulse.core.http.const import (
    CONF_CORS_ALLOWED_ORIGINS,
    CONF_IP_BAN_ENABLED,
    CONF_IP_BAN_MINUTES,
    CONF_LOGIN_ATTEMPTS_THRESHOLD,
    CONF_LOGIN_ATTEMPTS_WINDOW,
    CONF_SERVER_HOST,
    CONF_SERVER_PORT,
    CONF_TRUSTED_PROXIES,
    CONF_USE_X_FORWARDED_FOR,
    DOMAIN,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub


def _network(value: Any) -> str:
    from ipaddress import ip_network

    text = cv.string(value).strip()
    try:
        ip_network(text, strict=False)
    except ValueError:
        raise vol.Invalid(f"invalid network {text!r}: use an address or CIDR such as "
                          "10.0.0.0/8") from None
    return text


_minutes = vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False))

CONFIG_SCHEMA: Final = cv.empty_means_defaults(vol.Schema({
    vol.Optional(CONF_SERVER_PORT, default=DEFAULT_HTTP_PORT): cv.port,
    vol.Optional(CONF_SERVER_HOST): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(CONF_CORS_ALLOWED_ORIGINS, default=[]): vol.All(cv.ensure_list, [cv.string]),
    vol.Optional(CONF_IP_BAN_ENABLED, default=True): cv.boolean,
    vol.Optional(CONF_LOGIN_ATTEMPTS_THRESHOLD, default=DEFAULT_LOGIN_ATTEMPTS_THRESHOLD):
        vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional(CONF_LOGIN_ATTEMPTS_WINDOW, default=DEFAULT_LOGIN_ATTEMPTS_WINDOW_MINUTES):
        _minutes,
    vol.Optional(CONF_IP_BAN_MINUTES, default=DEFAULT_IP_BAN_MINUTES): _minutes,
    vol.Optional(CONF_USE_X_FORWARDED_FOR, default=False): cv.boolean,
    vol.Optional(CONF_TRUSTED_PROXIES, default=[]): vol.All(cv.ensure_list, [_network]),
}))


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Load users and tokens, start the server, and print the onboarding URL if needed."""
    from plantpulse.core.auth.manager import AuthManager
    from plantpulse.core.exceptions import PlantPulseError
    from plantpulse.core.http.server import HubHTTP
    from plantpulse.core.hub import StopStage

    auth = AuthManager(hub)
    await auth.async_load()
    http = HubHTTP(hub, config, auth)
    try:
        await http.async_start()
    except OSError as err:
        raise PlantPulseError(err.strerror or str(err)) from err
    hub.data["auth"] = auth
    hub.data[DOMAIN] = http
    hub.async_on_stop(http.async_stop, StopStage.HTTP)
    await http.async_announce_onboarding()
    return True
