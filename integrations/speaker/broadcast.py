"""Announcements: a message spoken once, then played on every target speaker at once.

One speaker failing (unplugged, wrong URL) does not stop the others; each failure is logged,
returned in the result and, when the alarm integration runs, raised as a warning alarm
(`speaker_<name>_delivery`), cleared when that speaker plays again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plantpulse.integrations.speaker.const import (
    DEFAULT_REPEAT,
    MAX_MESSAGE_CHARS,
    MAX_REPEAT,
    REPEAT_GAP,
    WAV_SUFFIX,
    Language,
)
from plantpulse.integrations.speaker.drivers import Delivery, Speaker
from plantpulse.integrations.speaker.errors import SpeakerError, UnknownSpeakerError
from plantpulse.integrations.speaker.script import detect_language
from plantpulse.integrations.speaker.tts import TextToSpeech
from plantpulse.integrations.speaker.wav import make_clip

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_ALARM_TEXT_CHARS = 300  # of the announcement, in the alarm's data (which is capped at 4 KiB)


@dataclass(frozen=True, slots=True)
class SpeakerOutcome:
    """How one speaker fared: played (with details such as the HTTP status) or the error."""

    ok: bool
    error: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The shape in the service response."""
        return {"ok": True, **self.detail} if self.ok else {"ok": False, "error": self.error}


@dataclass(frozen=True, slots=True)
class Announcement:
    """The result of `async_say`: what was spoken and how every target speaker fared."""

    message: str
    language: Language
    duration: float  # seconds of one reading
    cached: bool  # the phrase came from the cache: espeak-ng did not run
    outcomes: Mapping[str, SpeakerOutcome]

    @property
    def failed(self) -> list[str]:
        """Names of the speakers that did not play it."""
        return [name for name, outcome in self.outcomes.items() if not outcome.ok]

    def as_dict(self) -> dict[str, Any]:
        """The `speaker.say` service response."""
        return {
            "message": self.message, "language": str(self.language),
            "duration": round(self.duration, 2), "cached": self.cached,
            "speakers": {name: outcome.as_dict() for name, outcome in self.outcomes.items()},
        }


def _remove_files(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _reset(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


class Broadcaster:
    """The speaker integration's Python API, `hub.data["speaker"]`.

        await hub.data["speaker"].async_say("一号线负荷超过40千瓦", ["workshop"])
    """

    def __init__(self, hub: Hub, tts: TextToSpeech, speakers: Iterable[Speaker],
                 clips_dir: Path) -> None:
        self._hub = hub
        self.tts = tts
        self.speakers: dict[str, Speaker] = {speaker.name: speaker for speaker in speakers}
        self.clips_dir = clips_dir
        self._alarmed: set[str] = set()  # speakers with a delivery alarm raised by us

    async def async_setup(self) -> None:
        """Start with an empty clips folder (clips of a previous run are left-overs)."""
        await self._hub.async_add_executor_job(_reset, self.clips_dir)

    def targets(self, names: str | Iterable[str] | None) -> list[Speaker]:
        """The speakers called `names` (all for None). Raises SpeakerError naming unknown ones."""
        if not self.speakers:
            raise UnknownSpeakerError("No speakers are configured: add them under `speaker:` "
                                      "`speakers:` in configuration.yaml")
        if names is None:
            return list(self.speakers.values())
        wanted = [names] if isinstance(names, str) else list(names)
        if unknown := [name for name in wanted if name not in self.speakers]:
            raise UnknownSpeakerError(
                f"No speaker called {', '.join(map(repr, unknown))}; configured: "
                f"{', '.join(self.speakers) or 'none'}"
            )
        return [self.speakers[name] for name in dict.fromkeys(wanted)]

    async def async_say(
        self,
        message: str,
        targets: str | Iterable[str] | None = None,
        language: Language | str | None = None,
        *,
        volume: int | None = None,
        repeat: int = DEFAULT_REPEAT,
    ) -> Announcement:
        """Speak `message` on `targets` (names; all when None) and wait until each has it.

        `language` is zh-CN or en; when None, Chinese if the text has Han characters, English
        if it has Latin letters, else the site's language. `volume` (0-100 %) overrides each
        speaker's own; `repeat` plays it that many times. Raises SpeakerError when nothing can
        be spoken (unknown speaker, unreadable text, espeak-ng missing); a speaker that fails
        is reported in the returned Announcement instead.
        """
        speakers = self.targets(targets)
        if len(message) > MAX_MESSAGE_CHARS:
            raise SpeakerError(f"The message has {len(message)} characters; at most "
                               f"{MAX_MESSAGE_CHARS} are read aloud")
        if not 1 <= repeat <= MAX_REPEAT:
            raise SpeakerError(f"repeat must be from 1 to {MAX_REPEAT}, not {repeat}")
        if volume is not None and not 0 <= volume <= 100:
            raise SpeakerError(f"volume must be from 0 to 100 (%), not {volume}")
        spoken_language = self._language(message, language)
        speech = await self.tts.async_speak(message, spoken_language)
        volumes = {speaker.name: speaker.volume if volume is None else volume
                   for speaker in speakers}
        clips = await self._async_make_clips(speech.path, set(volumes.values()), repeat)
        clip_duration = speech.duration * repeat + REPEAT_GAP * (repeat - 1)
        try:
            results = await asyncio.gather(*(
                self._async_deliver(speaker, Delivery(
                    clips[volumes[speaker.name]], clip_duration, message, spoken_language,
                    volumes[speaker.name],
                ))
                for speaker in speakers
            ))
        finally:
            await self._hub.async_add_executor_job(_remove_files, clips.values())
        announcement = Announcement(message, spoken_language, speech.duration, speech.cached,
                                    dict(zip(volumes, results, strict=True)))
        await self._async_update_alarms(announcement)
        return announcement

    def _language(self, message: str, language: Language | str | None) -> Language:
        if language is None:
            return detect_language(message, Language(self._hub.site.language))
        try:
            return Language(language)
        except ValueError:
            raise SpeakerError(
                f"Unsupported language {language!r}: use one of "
                f"{', '.join(item.value for item in Language)}"
            ) from None

    async def _async_make_clips(
        self, source: Path, volumes: set[int], repeat: int
    ) -> dict[int, Path]:
        """One clip per volume, owned by this announcement and deleted after it."""
        clips = {volume: self.clips_dir / f"{secrets.token_hex(16)}{WAV_SUFFIX}"
                 for volume in volumes}
        try:
            await asyncio.gather(*(
                self._hub.async_add_executor_job(make_clip, source, clip, volume, repeat,
                                                 REPEAT_GAP)
                for volume, clip in clips.items()
            ))
        except OSError as err:
            await self._hub.async_add_executor_job(_remove_files, clips.values())
            raise SpeakerError(
                f"Cannot prepare the audio in {self.clips_dir} ({err}); if the phrase was "
                "evicted meanwhile, raise `cache_max_mb`"
            ) from err
        return clips

    async def _async_deliver(self, speaker: Speaker, delivery: Delivery) -> SpeakerOutcome:
        try:
            detail = await speaker.async_deliver(delivery)
        except SpeakerError as err:
            _LOGGER.warning("Speaker %s did not play %r: %s", speaker.name, delivery.message, err)
            return SpeakerOutcome(False, str(err))
        except Exception as err:
            _LOGGER.exception("Unexpected error delivering to speaker %s", speaker.name)
            return SpeakerOutcome(False, f"unexpected error: {err!r}")
        return SpeakerOutcome(True, detail=detail)

    async def _async_update_alarms(self, announcement: Announcement) -> None:
        """Raise a warning alarm for each speaker that failed, and clear the alarm of one that
        plays again, when the alarm integration runs (`hub.data["alarm"]`)."""
        alarms = self._hub.data.get("alarm")
        if alarms is None:
            return
        for name, outcome in announcement.outcomes.items():
            key = f"speaker_{name}_delivery"
            try:
                if not outcome.ok:
                    await alarms.async_raise(key, "warning", {
                        "zh-CN": f"广播音箱 {name} 播放失败：{outcome.error}",
                        "en": f"Speaker {name} could not play an announcement: {outcome.error}",
                    }, data={"speaker": name,
                             "announcement": announcement.message[:_ALARM_TEXT_CHARS]})
                    self._alarmed.add(name)
                elif name in self._alarmed:
                    self._alarmed.discard(name)
                    await alarms.async_clear(key)
            except Exception:
                _LOGGER.exception("Could not update the delivery alarm of speaker %s", name)
