"""Short-lived public URLs of WAV files, for IP speakers that fetch what they are told to play.

A speaker cannot log in, so the URL itself is the secret: `/api/webhook/<256 random bits>.wav`
through the hub's webhook route (no token), answering GET and HEAD (with ranges) for
`url_ttl` seconds of the hub's clock, then gone. Each published file is its own hard link
under `.cache/tts/served/`, so the phrase cache may evict the original meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from aiohttp import web

from plantpulse.core.http.webhook import async_generate_webhook_id, async_register_webhook
from plantpulse.integrations.speaker.const import WAV_CONTENT_TYPE, WAV_SUFFIX
from plantpulse.integrations.speaker.errors import SpeakerError
from plantpulse.integrations.speaker.wav import link_or_copy

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

WEBHOOK_PATH: Final = "/api/webhook/"
_WILDCARD_HOSTS: Final = frozenset({None, "", "0.0.0.0", "::"})


@dataclass(slots=True)
class _Published:
    path: Path
    unregister: Callable[[], None]
    cancel_expiry: Callable[[], None]


def route_address(host: str, port: int) -> str:
    """This machine's address on the route to `host` (no packet is sent). Blocking: DNS."""
    family, kind, protocol, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_DGRAM
    )[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.connect(address)
        return str(probe.getsockname()[0])


def _reset(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


class AudioServer:
    """Publishes WAV files at unguessable URLs that expire."""

    def __init__(self, hub: Hub, directory: Path, ttl: float, base_url: str | None) -> None:
        self._hub = hub
        self.directory = directory
        self.ttl = ttl
        self.base_url = base_url.rstrip("/") if base_url else None
        self._published: dict[str, _Published] = {}

    async def async_setup(self) -> None:
        """Start with an empty folder (files of a previous run are expired)."""
        await self._hub.async_add_executor_job(_reset, self.directory)

    async def async_base_url(self, speaker_host: str) -> str:
        """The hub's URL as the speaker at `speaker_host` reaches it.

        `base_url` from the configuration, else the http server's own address when it listens
        on one, else this machine's address on the route to the speaker.
        """
        http = self._hub.data.get("http")
        if http is None:
            raise SpeakerError(
                "play_url speakers fetch the audio from the hub's web server, but `http:` is "
                "not set up: add `http:` to configuration.yaml (or use upload_url)"
            )
        if self.base_url:
            return self.base_url
        hosts = [host for host in http.hosts if host not in _WILDCARD_HOSTS]
        if len(hosts) == len(http.hosts) == 1:
            host = hosts[0]
        else:
            try:
                host = await self._hub.async_add_executor_job(route_address, speaker_host,
                                                              http.port)
            except OSError as err:
                raise SpeakerError(
                    f"Cannot tell which address of the hub {speaker_host} reaches ({err}); "
                    "set `base_url:` under `speaker:` (e.g. http://192.168.1.20:8130)"
                ) from err
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{http.port}"

    async def async_publish(self, clip: Path, base_url: str) -> str:
        """Serve `clip` (its own link of it) for `ttl` seconds; returns the full URL."""
        webhook_id = f"{async_generate_webhook_id()}{WAV_SUFFIX}"
        path = self.directory / webhook_id
        await self._hub.async_add_executor_job(link_or_copy, clip, path)
        unregister = async_register_webhook(
            self._hub, webhook_id, self._async_handle, name="speaker audio",
            allowed_methods=("GET", "HEAD"),
        )
        cancel_expiry = self._hub.async_call_later(self.ttl, lambda: self._async_expire(webhook_id))
        self._published[webhook_id] = _Published(path, unregister, cancel_expiry)
        return f"{base_url}{WEBHOOK_PATH}{webhook_id}"

    @property
    def published(self) -> int:
        """How many URLs are live."""
        return len(self._published)

    async def _async_handle(
        self, _hub: Hub, webhook_id: str, request: web.Request
    ) -> web.StreamResponse:
        entry = self._published[webhook_id]
        _LOGGER.debug("Serving %s... to %s", webhook_id[:8], request.remote)
        return web.FileResponse(entry.path, headers={
            "Content-Type": WAV_CONTENT_TYPE, "Cache-Control": "no-store",
        })

    async def _async_expire(self, webhook_id: str) -> None:
        entry = self._published.pop(webhook_id, None)
        if entry is None:
            return
        entry.unregister()
        entry.cancel_expiry()
        await self._hub.async_add_executor_job(_unlink, entry.path)

    async def async_stop(self) -> None:
        """Expire every URL now."""
        for webhook_id in list(self._published):
            await self._async_expire(webhook_id)


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
