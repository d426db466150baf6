"""Delivery drivers: the hub's own sound card (aplay) and IP speakers over HTTP.

Each speaker plays one announcement at a time (a lock per speaker), so two alarms in the same
second are heard one after the other instead of over each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp

from plantpulse.core.template import Template, TemplateError, render_complex
from plantpulse.integrations.speaker.const import (
    APLAY,
    CONF_DEVICE,
    CONF_HEADERS,
    CONF_METHOD,
    CONF_NAME,
    CONF_PASSWORD,
    CONF_PAYLOAD,
    CONF_PLAY_URL,
    CONF_TIMEOUT,
    CONF_UPLOAD_AS,
    CONF_UPLOAD_FIELD,
    CONF_UPLOAD_URL,
    CONF_USERNAME,
    CONF_VERIFY_SSL,
    CONF_VOLUME,
    PLAYBACK_MARGIN,
    WAV_CONTENT_TYPE,
    Language,
    UploadAs,
)
from plantpulse.integrations.speaker.errors import SpeakerError
from plantpulse.integrations.speaker.serve import AudioServer

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_ERROR_BODY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Delivery:
    """One announcement for one speaker: the clip to play and what it says."""

    clip: Path
    duration: float  # seconds, repetitions included
    message: str
    language: Language
    volume: int

    def variables(self) -> dict[str, Any]:
        """What `upload_url`, `play_url` and `payload` templates may use (besides `url`)."""
        return {"message": self.message, "language": str(self.language),
                "volume": self.volume, "duration": round(self.duration, 2)}


class Speaker(ABC):
    """A named place announcements are heard."""

    kind: str = ""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.name: str = config[CONF_NAME]
        self.volume: int = config[CONF_VOLUME]
        self.lock = asyncio.Lock()

    async def async_deliver(self, delivery: Delivery) -> dict[str, Any]:
        """Play the clip here, after any announcement still playing. Raises SpeakerError."""
        async with self.lock:
            return await self.async_play(delivery)

    @abstractmethod
    async def async_play(self, delivery: Delivery) -> dict[str, Any]:
        """Play the clip; returns details for the service response. Raises SpeakerError."""


class LocalSpeaker(Speaker):
    """The hub's own audio output, played with aplay (alsa-utils) on an ALSA device."""

    kind = "local"

    def __init__(self, config: Mapping[str, Any], executable: str = APLAY) -> None:
        super().__init__(config)
        self.device: str = config[CONF_DEVICE]
        self.executable = executable

    async def async_play(self, delivery: Delivery) -> dict[str, Any]:
        """Run `aplay -D <device>` on the clip and wait for it to finish."""
        command = [self.executable, "-q", "-D", self.device, str(delivery.clip)]
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError:
            raise SpeakerError(
                "aplay is not installed, so the hub cannot play on its own sound card: install "
                "it with `apt-get install alsa-utils`"
            ) from None
        timeout = delivery.duration + PLAYBACK_MARGIN
        try:
            async with asyncio.timeout(timeout):
                _stdout, stderr = await process.communicate()
        except TimeoutError:
            raise SpeakerError(
                f"aplay on device {self.device!r} still played after {timeout:g} s and was "
                "stopped; check the device"
            ) from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process.returncode != 0:
            detail = " ".join(stderr.decode(errors="replace").split())[:_ERROR_BODY_CHARS]
            raise SpeakerError(
                f"aplay could not play on ALSA device {self.device!r} (exit code "
                f"{process.returncode}): {detail or 'no message'}; list the devices with "
                "`aplay -L`"
            )
        return {"device": self.device, "exit_code": process.returncode}


class HttpSpeaker(Speaker):
    """An IP speaker: the WAV uploaded to `upload_url`, or `play_url` called with a URL the
    hub serves the WAV at (optionally with a JSON `payload`)."""

    kind = "http"

    def __init__(self, hub: Hub, config: Mapping[str, Any], session: aiohttp.ClientSession,
                 server: AudioServer) -> None:
        super().__init__(config)
        self._hub = hub
        self._session = session
        self._server = server
        self.upload_url: Template | None = config.get(CONF_UPLOAD_URL)
        self.play_url: Template | None = config.get(CONF_PLAY_URL)
        self.payload: Any = config.get(CONF_PAYLOAD)
        self.upload_as = UploadAs(config[CONF_UPLOAD_AS])
        self.upload_field: str = config[CONF_UPLOAD_FIELD]
        # Uploads and JSON play requests are POSTs unless said otherwise; a bare play_url a GET.
        self.method: str = config.get(CONF_METHOD) or (
            "POST" if self.upload_url is not None or self.payload is not None else "GET")
        self.headers: dict[str, str] = dict(config[CONF_HEADERS])
        if CONF_USERNAME in config:
            self.headers["Authorization"] = aiohttp.encode_basic_auth(
                config[CONF_USERNAME], config.get(CONF_PASSWORD, "")
            )
        self.ssl: bool = config[CONF_VERIFY_SSL]
        self.timeout = aiohttp.ClientTimeout(total=config[CONF_TIMEOUT])

    async def async_play(self, delivery: Delivery) -> dict[str, Any]:
        """Upload the WAV, or have the speaker fetch it from the hub."""
        if self.upload_url is not None:
            return await self._async_upload(delivery, self.upload_url)
        assert self.play_url is not None
        return await self._async_play_url(delivery, self.play_url)

    async def _async_upload(self, delivery: Delivery, url_template: Template) -> dict[str, Any]:
        url = self._render_url(url_template, delivery.variables())
        audio = await self._hub.async_add_executor_job(delivery.clip.read_bytes)
        headers = dict(self.headers)
        body: aiohttp.FormData | bytes
        if self.upload_as is UploadAs.MULTIPART:
            body = aiohttp.FormData()
            body.add_field(self.upload_field, audio, filename=f"{self.name}.wav",
                           content_type=WAV_CONTENT_TYPE)
        else:
            headers.setdefault("Content-Type", WAV_CONTENT_TYPE)
            body = audio
        status = await self._async_request(url, headers=headers, data=body)
        return {"url": _without_secrets(url), "status": status, "bytes": len(audio)}

    async def _async_play_url(self, delivery: Delivery, url_template: Template) -> dict[str, Any]:
        probe = self._render_url(url_template, {**delivery.variables(), "url": ""})
        speaker_host = urlsplit(probe).hostname
        base_url = await self._server.async_base_url(speaker_host or "127.0.0.1")
        audio_url = await self._server.async_publish(delivery.clip, base_url)
        variables = {**delivery.variables(), "url": audio_url}
        url = self._render_url(url_template, variables)
        json_body = None
        if self.payload is not None:
            try:
                json_body = render_complex(self.payload, self._hub, variables)
            except TemplateError as err:
                raise SpeakerError(f"Cannot render the payload of speaker {self.name}: {err}") \
                    from err
        status = await self._async_request(url, headers=dict(self.headers), json=json_body)
        return {"url": _without_secrets(url), "status": status}

    def _render_url(self, template: Template, variables: Mapping[str, Any]) -> str:
        try:
            url = str(template.async_render(self._hub, variables, parse_result=False)).strip()
        except TemplateError as err:
            raise SpeakerError(f"Cannot render the URL of speaker {self.name}: {err}") from err
        if urlsplit(url).scheme not in ("http", "https"):
            raise SpeakerError(f"Speaker {self.name}: {url!r} is not an http(s) URL")
        return url

    async def _async_request(self, url: str, **kwargs: Any) -> int:
        """Send the request; the status, or SpeakerError for no answer or an error status."""
        try:
            async with self._session.request(
                self.method, url, ssl=self.ssl, timeout=self.timeout, **kwargs
            ) as response:
                if response.status >= 400:
                    text = (await response.text(errors="replace"))[:_ERROR_BODY_CHARS].strip()
                    raise SpeakerError(
                        f"Speaker {self.name} answered {response.status} {response.reason} to "
                        f"{self.method} {_without_secrets(url)}" + (f": {text}" if text else "")
                    )
                await response.read()
                return response.status
        except TimeoutError:
            raise SpeakerError(
                f"Speaker {self.name} did not answer {self.method} {_without_secrets(url)} "
                f"within {self.timeout.total:g} s"
            ) from None
        except aiohttp.ClientError as err:
            raise SpeakerError(
                f"Speaker {self.name} cannot be reached at {_without_secrets(url)}: {err}"
            ) from err


def _without_secrets(url: str) -> str:
    """The URL without user info and query (which may hold passwords or the audio token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
