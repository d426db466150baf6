"""Versioned JSON files under `<config>/.storage`, written atomically, and the config dir lock."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plantpulse.core.const import STORAGE_DIR
from plantpulse.core.exceptions import HubRunningError, StorageError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

Migrator = Callable[[int, int, dict[str, Any]], dict[str, Any]]
LOCK_FILE = ".lock"
SAVE_RETRY_DELAY = 30.0


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half.

    Temp file in the same folder, fsync, rename over the target, fsync the folder. Raises
    StorageError with a message a plant engineer can act on (disk full, read-only).
    """
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise StorageError(_describe(err, path)) from err
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as err:
        Path(temp_name).unlink(missing_ok=True)
        raise StorageError(_describe(err, path)) from err


def _reason(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "the disk is full"
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only or not writable by this user"
    return err.strerror or str(err)


def _describe(err: OSError, path: Path) -> str:
    return f"Cannot write {path}: {_reason(err)}. The previous version of the file is kept."


class Store:
    """One versioned JSON document in `.storage/<key>`.

    The file holds `{"version", "minor_version", "key", "data"}`. An older version is migrated
    on load with `migrate(old_major, old_minor, data)`; a newer major version (written by a
    newer PlantPulse) is refused rather than misread.
    """

    def __init__(
        self,
        hub: Hub,
        key: str,
        version: int,
        minor_version: int = 1,
        migrate: Migrator | None = None,
    ) -> None:
        self._hub = hub
        self._config_dir = hub.config_dir if hub is not None else None
        self.key = key
        self.version = version
        self.minor_version = minor_version
        self._migrate = migrate
        self._pending: Callable[[], Any] | None = None
        self._cancel_delay: Callable[[], None] | None = None
        self._write_lock = asyncio.Lock()
        self._stop_hook: Callable[[], None] | None = None

    @classmethod
    def offline(
        cls, config_dir: Path, key: str, version: int, minor_version: int = 1,
        migrate: Migrator | None = None,
    ) -> Store:
        """A store for commands that run while no hub does (the CLI): blocking load/save only.

        Take the ConfigDirLock around its writes so a hub cannot start meanwhile.
        """
        store = cls(None, key, version, minor_version, migrate)  # type: ignore[arg-type]
        store._config_dir = config_dir
        return store

    @property
    def path(self) -> Path:
        """Where the document lives: `<config>/.storage/<key>`."""
        assert self._config_dir is not None
        return self._config_dir / STORAGE_DIR / self.key

    async def async_load(self) -> Any | None:
        """Return the stored data (migrated to the current version), or None if absent."""
        return await self._hub.async_add_executor_job(self.load)

    def load(self) -> Any | None:
        """Blocking load, for the CLI when no hub loop runs."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as err:
            raise StorageError(f"Cannot read {self.path}: {err}") from err
        version = raw.get("version", 1)
        minor = raw.get("minor_version", 1)
        if version > self.version:
            raise StorageError(
                f"{self.path} was written by a newer PlantPulse (format {version}, this one "
                f"reads up to {self.version}). Upgrade PlantPulse or restore a backup."
            )
        data = raw.get("data")
        if (version, minor) != (self.version, self.minor_version) and self._migrate:
            data = self._migrate(version, minor, data)
        return data

    def _document(self, data: Any) -> dict[str, Any]:
        return {
            "version": self.version,
            "minor_version": self.minor_version,
            "key": self.key,
            "data": data,
        }

    async def async_save(self, data: Any) -> None:
        """Write now (atomically, in the executor). Raises StorageError."""
        self._cancel_pending()
        async with self._write_lock:
            await self._hub.async_add_executor_job(
                write_json_atomic, self.path, self._document(data)
            )

    def save(self, data: Any) -> None:
        """Blocking save, for the CLI when the hub is stopped."""
        write_json_atomic(self.path, self._document(data))

    def async_delay_save(self, data_func: Callable[[], Any], delay: float = 1.0) -> None:
        """Save `data_func()` after `delay` seconds, coalescing changes; flushed at stop."""
        self._pending = data_func
        if self._cancel_delay is None:
            self._cancel_delay = self._hub.async_call_later(delay, self._write_pending)
        if self._stop_hook is None:
            from plantpulse.core.hub import StopStage

            self._stop_hook = self._hub.async_on_stop(self.async_flush, StopStage.STORAGE)

    async def _write_pending(self) -> None:
        self._cancel_delay = None
        data_func, self._pending = self._pending, None
        if data_func is None:
            return
        try:
            async with self._write_lock:
                await self._hub.async_add_executor_job(
                    write_json_atomic, self.path, self._document(data_func())
                )
        except StorageError as err:
            _LOGGER.error("%s Retrying in %.0f s.", err, SAVE_RETRY_DELAY)
            self._hub.notifications.async_create(str(err), title="Storage error",
                                                 notification_id=f"storage_{self.key}")
            self._pending = self._pending or data_func
            if self._cancel_delay is None:
                self._cancel_delay = self._hub.async_call_later(
                    SAVE_RETRY_DELAY, self._write_pending
                )

    async def async_flush(self) -> None:
        """Write a pending delayed save now."""
        self._stop_hook = None
        if self._cancel_delay is not None:
            self._cancel_delay()
            self._cancel_delay = None
        await self._write_pending()

    def _cancel_pending(self) -> None:
        if self._cancel_delay is not None:
            self._cancel_delay()
            self._cancel_delay = None
        self._pending = None


class ConfigDirLock:
    """An exclusive lock on a config dir: one running hub (or one CLI writer) at a time."""

    def __init__(self, config_dir: Path) -> None:
        self.path = config_dir / STORAGE_DIR / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise HubRunningError naming the holder's pid."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            config_dir = self.path.parent.parent
            raise StorageError(
                f"Cannot use {config_dir} as the config dir: {_reason(err)}. The hub needs to "
                "write its .storage folder and database there; choose a writable dir with "
                "--config or fix the permissions or free space."
            ) from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise HubRunningError(
                f"A PlantPulse hub is running on {self.path.parent.parent} (pid {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Release the lock."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ConfigDirLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()
