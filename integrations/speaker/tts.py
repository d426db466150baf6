"""Text to speech: a message in, a cached WAV file out (pypinyin and espeak-ng, all offline)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plantpulse.integrations.speaker.cache import WavCache, cache_key
from plantpulse.integrations.speaker.const import Language
from plantpulse.integrations.speaker.errors import SpeakerError
from plantpulse.integrations.speaker.espeak import EspeakEngine, Prosody
from plantpulse.integrations.speaker.script import SpeechScript, build_script
from plantpulse.integrations.speaker.wav import wav_info

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Speech:
    """A spoken message: its WAV file (in the cache), language, length, and whether it was
    already cached (then espeak-ng did not run)."""

    path: Path
    language: Language
    duration: float
    cached: bool


class TextToSpeech:
    """Makes WAV files of messages; one espeak-ng run per distinct phrase, however many ask."""

    def __init__(self, hub: Hub, engine: EspeakEngine, cache: WavCache, prosody: Prosody) -> None:
        self._hub = hub
        self.engine = engine
        self.cache = cache
        self.prosody = prosody
        self._version: str | None = None
        self._pending: dict[str, asyncio.Future[Path]] = {}

    async def async_setup(self) -> None:
        """Index the cache and ask espeak-ng its version; a missing espeak-ng is logged (each
        message then fails with the same advice) and does not stop the hub.

        On a Chinese site pypinyin's phrase tables (about 55 MB, 0.2 s) are loaded now: loading
        them holds the interpreter long enough to stall the event loop for 0.1 s, which is
        harmless at start and unwelcome when the first alarm is announced.
        """
        await self.cache.async_load()
        if self._hub.site.language == Language.ZH_CN:
            await self._hub.async_add_executor_job(build_script, "预备", Language.ZH_CN)
        try:
            await self._async_version()
        except SpeakerError as err:
            _LOGGER.warning("Speaker broadcast cannot speak yet: %s", err)

    async def _async_version(self) -> str:
        if self._version is None:
            self._version = await self.engine.async_version()
        return self._version

    async def async_speak(self, text: str, language: Language) -> Speech:
        """The WAV file of `text` read in `language`. Raises SpeakerError."""
        try:
            script = await self._hub.async_add_executor_job(build_script, text, language)
        except ValueError as err:
            raise SpeakerError(f"Cannot speak this message: {err}") from None
        key = cache_key(await self._async_version(), script.espeak_input(), script.voice,
                        script.is_ssml, self.prosody.rate, self.prosody.pitch)
        path, cached = await self._async_wav(key, script)
        info = await self._hub.async_add_executor_job(wav_info, path)
        return Speech(path, language, info.duration, cached)

    async def _async_wav(self, key: str, script: SpeechScript) -> tuple[Path, bool]:
        """The file and whether it came from the cache; a phrase being made is waited for."""
        if (path := await self.cache.async_get(key)) is not None:
            return path, True
        if (pending := self._pending.get(key)) is not None:
            return await asyncio.shield(pending), False
        future: asyncio.Future[Path] = self._hub.loop.create_future()
        self._pending[key] = future
        try:
            path = await self.cache.async_put(
                key, lambda output: self.engine.async_synthesize(script, self.prosody, output)
            )
        except BaseException as err:
            future.set_exception(err if isinstance(err, SpeakerError) else SpeakerError(
                f"Speech synthesis was interrupted: {err!r}"))
            future.exception()  # retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(path)
        finally:
            del self._pending[key]
        return path, False
