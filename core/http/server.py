"""The hub's aiohttp server: routes, middlewares, listening sockets, bans and the onboarding URL."""

from __future__ import annotations

import logging
import socket
from datetime import timedelta, tzinfo
from ipaddress import ip_network
from typing import TYPE_CHECKING, Any, Final

from aiohttp import hdrs, web

from plantpulse.core import dt
from plantpulse.core.auth.onboarding import Onboarding
from plantpulse.core.auth.throttle import LoginThrottle
from plantpulse.core.http import auth_views, extensions, rest, static, webhook
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
    MAX_BODY_BYTES,
    SHUTDOWN_TIMEOUT,
)
from plantpulse.core.http.security import (
    cors_middleware,
    errors_middleware,
    security_middleware,
)
from plantpulse.core.http.view import HTTP_KEY
from plantpulse.core.http.websocket import connection as websocket_connection
from plantpulse.core.http.websocket.commands import async_register_builtin_commands

if TYPE_CHECKING:
    from plantpulse.core.auth.manager import AuthManager
    from plantpulse.core.http.websocket.connection import ActiveConnection
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

_ALL_INTERFACES: Final = (None, "", "0.0.0.0", "::")
BAN_NOTIFICATION_ID: Final = "http_ip_bans"
# Banned addresses named in the notification (the latest first); the rest are counted.
MAX_BANS_LISTED: Final = 20
_SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    # The onboarding URL carries its code: never pass it on to another site.
    "Referrer-Policy": "no-referrer",
}


class HubHTTP:
    """The `http` component of a running hub, kept in `hub.data["http"]`."""

    def __init__(self, hub: Hub, config: dict[str, Any], auth: AuthManager) -> None:
        self.hub = hub
        self.auth = auth
        self.onboarding = Onboarding(auth)
        self.port: int = config[CONF_SERVER_PORT]
        self.hosts: list[str | None] = list(config.get(CONF_SERVER_HOST) or [None])
        self.trusted_proxies = [ip_network(item, strict=False)
                                for item in config[CONF_TRUSTED_PROXIES]]
        self.use_x_forwarded_for: bool = config[CONF_USE_X_FORWARDED_FOR]
        if self.use_x_forwarded_for and not self.trusted_proxies:
            _LOGGER.warning("http: use_x_forwarded_for is on but trusted_proxies is empty, so "
                            "X-Forwarded-For is ignored; list your reverse proxy's address")
        self.throttle = LoginThrottle(
            config[CONF_LOGIN_ATTEMPTS_THRESHOLD],
            timedelta(minutes=config[CONF_LOGIN_ATTEMPTS_WINDOW]).total_seconds(),
            timedelta(minutes=config[CONF_IP_BAN_MINUTES]).total_seconds(),
        ) if config[CONF_IP_BAN_ENABLED] else None
        self.websockets: set[ActiveConnection] = set()
        middlewares = [errors_middleware, security_middleware]
        if origins := config[CONF_CORS_ALLOWED_ORIGINS]:
            middlewares.insert(0, cors_middleware(origins))
        self.app = web.Application(middlewares=middlewares, client_max_size=MAX_BODY_BYTES)
        self.app[HTTP_KEY] = self
        self.app.on_response_prepare.append(_add_security_headers)
        # The catch-all of integrations' views comes after the built-in API, before the UI.
        for table in (rest.routes, auth_views.routes, webhook.routes,
                      websocket_connection.routes, extensions.routes, static.routes):
            self.app.add_routes(table)
        async_register_builtin_commands(hub)
        auth.async_listen_revoked(self._close_connections_of)
        self._runner: web.AppRunner | None = None

    # Bans ---------------------------------------------------------------------------------

    def retry_after(self, ip: str) -> float:
        """Seconds `ip` stays banned (0 when it is not)."""
        return self.throttle.retry_after(ip) if self.throttle else 0.0

    def async_record_failure(self, ip: str, what: str) -> None:
        """Count a failed login or a forged token from `ip`; tell the admins when it is banned."""
        _LOGGER.warning("Login attempt failed from %s: %s", ip, what)
        if self.throttle is None or not self.throttle.record_failure(ip):
            return
        self.hub.notifications.async_create(
            ban_message(self.throttle, self.hub.site.tz, ip, what),
            title="Addresses banned after failed logins", notification_id=BAN_NOTIFICATION_ID,
        )

    def async_record_success(self, ip: str) -> None:
        """Forget the failures of an address that logged in."""
        if self.throttle is not None:
            self.throttle.record_success(ip)

    def _close_connections_of(self, token_id: str) -> None:
        for connection in list(self.websockets):
            if connection.refresh_token_id == token_id:
                connection.async_close_soon()

    # Lifecycle ----------------------------------------------------------------------------

    async def async_start(self) -> None:
        """Listen on every configured host; raises OSError naming the address in use."""
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False,
                               shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        self._runner = runner
        for host in self.hosts:
            site = web.TCPSite(runner, host or None, self.port, reuse_address=True)
            try:
                await site.start()
            except OSError as err:
                await self.async_stop()
                shown = host or "all interfaces"
                raise OSError(err.errno, f"cannot listen on {shown} port {self.port}: "
                              f"{err.strerror}. Is another PlantPulse (or another program) "
                              "using it? Change http: server_port") from err
        _LOGGER.info("Web UI and API at %s", ", ".join(reachable_urls(self.hosts, self.port, [])))

    async def async_stop(self) -> None:
        """Close WebSockets, stop listening and finish requests in flight."""
        for connection in list(self.websockets):
            connection.async_close_soon()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def async_announce_onboarding(self) -> None:
        """Print (like Jupyter's token URL) and log the one-time link to create the owner."""
        code = self.onboarding.code
        if code is None:
            return
        addresses = await self.hub.async_add_executor_job(lan_addresses)
        urls = [f"{base}/onboarding.html?code={code}"
                for base in reachable_urls(self.hosts, self.port, addresses)]
        lines = [f"Open {urls[0]} to create the owner account"]
        lines.extend(f"    or, from another device on the network: {url}" for url in urls[1:])
        text = "\n".join(lines)
        # Printed, not logged: the person who just ran `make run` must see it without log
        # noise around it, and it is shown once rather than twice.
        print(text, flush=True)
        _LOGGER.info("No users yet: the one-time onboarding link is printed on standard output")


def ban_message(throttle: LoginThrottle, tz: tzinfo, ip: str, what: str) -> str:
    """The one notification about bans: every address banned now, and why the latest was."""
    banned = throttle.banned()
    now = dt.utcnow().astimezone(tz)
    shown = [
        f"{address} until {(now + timedelta(seconds=left)).strftime('%H:%M')}"
        for address, left in reversed(list(banned.items())[-MAX_BANS_LISTED:])
    ]
    if len(banned) > MAX_BANS_LISTED:
        shown.append(f"and {len(banned) - MAX_BANS_LISTED} more")
    return (
        f"{len(banned)} address{'es' if len(banned) != 1 else ''} banned for "
        f"{throttle.ban / 60:g} minutes after {throttle.threshold} failed logins or invalid "
        f"tokens: {', '.join(shown)}. Latest: {ip} ({what}). If an address is one of your own "
        "devices, check the password or token it uses; bans end by themselves."
    )


def reachable_urls(hosts: list[str | None], port: int, lan: list[str]) -> list[str]:
    """URLs people can open: loopback first, then `lan` addresses when bound to all interfaces."""
    urls = []
    for host in hosts:
        if host in _ALL_INTERFACES:
            urls.append(f"http://127.0.0.1:{port}")
            urls.extend(f"http://{address}:{port}" for address in lan)
        else:
            shown = f"[{host}]" if host and ":" in host else host
            urls.append(f"http://{shown}:{port}")
    return list(dict.fromkeys(urls))


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, as far as it can tell without extra packages.

    Blocking (it may ask the resolver); run in an executor.
    """
    found: set[str] = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            # Connecting a UDP socket sends nothing; it only picks the outgoing interface.
            probe.connect(("192.0.2.1", 9))
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return sorted(address for address in found if not address.startswith(("127.", "0.")))


async def _add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in _SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if hdrs.SERVER in response.headers:
        response.headers[hdrs.SERVER] = "PlantPulse"
