"""WAV files of phrases already spoken, under `<config>/.cache/tts/`, least recently used evicted.

A file's name is the hash of everything that shapes its sound (engine version, voices, the text
espeak-ng reads, rate, pitch), so a repeated announcement is played without running espeak-ng.
The order of use survives restarts through the files' modification times.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from plantpulse.integrations.speaker.const import WAV_SUFFIX

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


def cache_key(*parts: object) -> str:
    """A file-name-safe key for the parts (strings and numbers)."""
    encoded = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


def _scan(directory: Path) -> list[tuple[str, int]]:
    """Cached files as (key, size), least recently used first; leftovers of a crash removed."""
    directory.mkdir(parents=True, exist_ok=True)
    found: list[tuple[float, str, int]] = []
    for path in directory.iterdir():
        if not path.is_file():
            continue
        if path.suffix != WAV_SUFFIX:
            path.unlink(missing_ok=True)  # a write cut short by a crash
            continue
        stat = path.stat()
        found.append((stat.st_mtime, path.stem, stat.st_size))
    found.sort()
    return [(key, size) for _mtime, key, size in found]


def _touch(path: Path) -> bool:
    """Mark a file as just used; False when it is gone."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _store(temporary: Path, path: Path) -> int:
    """Move a finished file into place; its size."""
    size = temporary.stat().st_size
    temporary.replace(path)
    return size


def _remove(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


class WavCache:
    """The phrase cache: `async_get(key)` a file or None, `async_put(key, produce)` a new one."""

    def __init__(self, hub: Hub, directory: Path, max_bytes: int) -> None:
        self._hub = hub
        self.directory = directory
        self.max_bytes = max_bytes
        self._sizes: OrderedDict[str, int] = OrderedDict()
        self._writes = 0

    @property
    def total_bytes(self) -> int:
        """Bytes of WAV files in the cache."""
        return sum(self._sizes.values())

    def __contains__(self, key: str) -> bool:
        return key in self._sizes

    def path(self, key: str) -> Path:
        """Where the file of `key` is (or would be)."""
        return self.directory / f"{key}{WAV_SUFFIX}"

    async def async_load(self) -> None:
        """Index the files already there (the folder is created if missing)."""
        entries = await self._hub.async_add_executor_job(_scan, self.directory)
        self._sizes = OrderedDict(entries)
        await self._async_evict()
        _LOGGER.debug("TTS cache: %d files, %d bytes", len(self._sizes), self.total_bytes)

    async def async_get(self, key: str) -> Path | None:
        """The cached file of `key`, now the most recently used, or None."""
        if key not in self._sizes:
            return None
        path = self.path(key)
        if not await self._hub.async_add_executor_job(_touch, path):
            self._sizes.pop(key, None)  # deleted by hand
            return None
        if key in self._sizes:
            self._sizes.move_to_end(key)
        return path

    async def async_put(self, key: str, produce: Callable[[Path], Awaitable[None]]) -> Path:
        """Have `produce(temporary_path)` write the file, then keep it under `key`.

        Older files are evicted until the cache fits `max_bytes` (the newest file always stays).
        A failing `produce` leaves nothing behind and its error propagates.
        """
        self._writes += 1
        temporary = self.directory / f"{key}.{self._writes}.part"
        path = self.path(key)
        # The folder may have been cleaned by hand since the hub started.
        await self._hub.async_add_executor_job(
            partial(self.directory.mkdir, parents=True, exist_ok=True))
        try:
            await produce(temporary)
            self._sizes[key] = await self._hub.async_add_executor_job(_store, temporary, path)
        except BaseException:
            await self._hub.async_add_executor_job(_remove, [temporary])
            raise
        self._sizes.move_to_end(key)
        await self._async_evict()
        return path

    async def _async_evict(self) -> None:
        evicted: list[Path] = []
        total = self.total_bytes
        while total > self.max_bytes and len(self._sizes) > 1:
            key, size = self._sizes.popitem(last=False)
            total -= size
            evicted.append(self.path(key))
        if evicted:
            await self._hub.async_add_executor_job(_remove, evicted)
            _LOGGER.debug("TTS cache: evicted %d files to stay under %d bytes", len(evicted),
                          self.max_bytes)
