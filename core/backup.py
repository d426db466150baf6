"""`plantpulse backup` and `restore`: the config dir and a consistent copy of the recorder DB.

The archive (.tar.gz) holds the config dir as it is (configuration, secrets, `.storage`,
custom integrations, ...) except the live database files and the hub's lock file, plus a
copy of the database made with SQLite's online backup API: a consistent snapshot even
while a hub writes to it in WAL mode. A small manifest names the database inside.
Restoring needs the hub stopped (it takes the config dir lock) and an empty config dir
unless forced; members that would land outside the config dir are refused. Everything
happens inside the config dir, which is often a mount point of its own (a Docker volume):
the archive is unpacked into a staging folder there, the old contents are moved into a
`.restore-old-*` folder, the new ones moved in, and the old ones deleted only once all of
that worked; on a failure the old contents are put back.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Final

from plantpulse.core.const import STORAGE_DIR, VERSION
from plantpulse.core.exceptions import HubRunningError, PlantPulseError
from plantpulse.core.recorder.config import database_path_of_config_dir
from plantpulse.core.storage import LOCK_FILE, ConfigDirLock

_LOGGER = logging.getLogger(__name__)

MANIFEST: Final = ".plantpulse-backup.json"
ARCHIVE_PREFIX: Final = "plantpulse-backup-"
ARCHIVE_SUFFIX: Final = ".tar.gz"
# Where a database kept outside the config dir (db_url with an absolute path) goes.
EXTERNAL_DB_DIR: Final = ".plantpulse-backup-db"
FORMAT: Final = 1
DB_SIDE_FILES: Final = ("-wal", "-shm", "-journal")
STAGING_PREFIX: Final = ".restore-new-"
ASIDE_PREFIX: Final = ".restore-old-"


class BackupError(PlantPulseError):
    """A backup cannot be written or an archive cannot be restored; the message says why."""


def create_backup(config_dir: Path, output: Path | None = None) -> Path:
    """Write a backup archive of `config_dir`; returns its path. Blocking; works while a hub
    runs.

    The default name is `plantpulse-backup-<UTC timestamp>.tar.gz` in the current folder.
    """
    config_dir = config_dir.resolve()
    if not config_dir.is_dir():
        raise BackupError(f"Config dir {config_dir} does not exist: nothing to back up")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = (output or Path.cwd() / f"{ARCHIVE_PREFIX}{stamp}{ARCHIVE_SUFFIX}").resolve()
    database = database_path_of_config_dir(config_dir)
    skipped = {database.with_name(database.name + side) for side in ("", *DB_SIDE_FILES)}
    skipped.add(config_dir / STORAGE_DIR / LOCK_FILE)
    skipped.add(target)
    partial = target.with_name(f".{target.name}.partial")
    skipped.add(partial)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="plantpulse-backup-") as scratch:
            copy = Path(scratch) / database.name
            has_database = database.is_file()
            if has_database:
                copy_database(database, copy)
            database_member = None
            if has_database:
                database_member = (
                    database.relative_to(config_dir).as_posix()
                    if database.is_relative_to(config_dir)
                    else f"{EXTERNAL_DB_DIR}/{database.name}"
                )
            # The archive holds users' token keys and secrets.yaml: readable by its owner only.
            partial.touch(mode=0o600)
            partial.chmod(0o600)
            with tarfile.open(partial, "w:gz") as archive:
                for path in _walk(config_dir, skipped):
                    archive.add(path, arcname=path.relative_to(config_dir).as_posix(),
                                recursive=False)
                if database_member is not None:
                    archive.add(copy, arcname=database_member)
                _add_manifest(archive, Path(scratch), database_member)
            os.replace(partial, target)
    except OSError as err:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Cannot write the backup {target}: {err.strerror or err}") from err
    _LOGGER.info("Backup of %s written to %s", config_dir, target)
    return target


def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database consistently with the online backup API, into one file.

    The copy is in rollback-journal mode so it is complete without a WAL beside it; the
    recorder switches it back to WAL when it opens it.
    """
    try:
        reader = sqlite3.connect(source)
        try:
            writer = sqlite3.connect(target)
            try:
                reader.backup(writer)
                writer.execute("PRAGMA journal_mode=DELETE")
                check = writer.execute("PRAGMA quick_check").fetchone()[0]
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.Error as err:
        raise BackupError(f"Cannot copy the recorder database {source}: {err}") from err
    if check != "ok":
        raise BackupError(f"The copy of the recorder database {source} fails its integrity "
                          f"check ({check}); the database may be damaged")


def _walk(config_dir: Path, skipped: set[Path]) -> list[Path]:
    paths = []
    for root, folders, files in os.walk(config_dir):
        folders[:] = sorted(name for name in folders if name != "__pycache__")
        base = Path(root)
        if base != config_dir:
            paths.append(base)
        for name in sorted(files):
            path = base / name
            if path in skipped or (
                base == config_dir and name.startswith(ARCHIVE_PREFIX)
                and name.endswith(ARCHIVE_SUFFIX)
            ):
                continue
            paths.append(path)
    return paths


def _add_manifest(archive: tarfile.TarFile, scratch: Path, database_member: str | None) -> None:
    manifest = scratch / MANIFEST
    manifest.write_text(json.dumps({
        "format": FORMAT,
        "created": datetime.now(UTC).isoformat(),
        "plantpulse_version": VERSION,
        "database": database_member,
    }, indent=2), encoding="utf-8")
    archive.add(manifest, arcname=MANIFEST)


def restore_backup(archive: Path, config_dir: Path, force: bool = False) -> None:
    """Restore `archive` into `config_dir`. Blocking; refuses while a hub runs there.

    A config dir that is not empty is refused unless `force`, which replaces its contents.
    """
    archive = archive.resolve()
    if not archive.is_file():
        raise BackupError(f"Backup archive {archive} not found")
    config_dir = config_dir.resolve()
    lock = ConfigDirLock(config_dir)
    try:
        lock.acquire()
    except HubRunningError as err:
        raise HubRunningError(f"{err}: stop it before restoring a backup") from None
    try:
        existing = _contents(config_dir)
        if existing and not force:
            raise BackupError(
                f"Config dir {config_dir} is not empty ({len(existing)} entries). Restore into "
                "an empty folder, or pass --force to replace its contents."
            )
        manifest = _extract_checked(archive, config_dir, existing)
        _place_external_database(config_dir, manifest.get("database"))
    finally:
        lock.release()
    _LOGGER.info("Restored %s into %s", archive, config_dir)


def _contents(config_dir: Path) -> list[Path]:
    """What is in the config dir, apart from the lock file restore itself holds."""
    lock_path = config_dir / STORAGE_DIR / LOCK_FILE
    found = []
    for path in sorted(config_dir.iterdir()):
        if path.name == STORAGE_DIR and path.is_dir():
            found.extend(item for item in sorted(path.iterdir()) if item != lock_path)
        else:
            found.append(path)
    return found


def _extract_checked(archive: Path, config_dir: Path, existing: list[Path]) -> dict[str, Any]:
    """Check every member, unpack into a staging folder in the config dir, swap it in."""
    staging: Path | None = None
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [member for member in tar.getmembers()
                       if member.name != f"{STORAGE_DIR}/{LOCK_FILE}"]
            for member in members:
                _check_member(member)
            if MANIFEST not in {member.name for member in members}:
                raise BackupError(f"{archive} is not a PlantPulse backup (no {MANIFEST})")
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=config_dir))
            tar.extractall(staging, members=members, filter="data")
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{archive} was written in an unknown backup format")
        (staging / MANIFEST).unlink()
        _swap_in(staging, config_dir, existing)
    except (tarfile.TarError, EOFError, ValueError) as err:
        raise BackupError(f"{archive} is not a readable backup archive: {err}. Nothing in "
                          f"{config_dir} was changed.") from err
    except OSError as err:
        raise BackupError(f"Cannot restore into {config_dir}: {err.strerror or err}. Nothing "
                          "in it was changed.") from err
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _swap_in(staging: Path, config_dir: Path, existing: list[Path]) -> None:
    """Move `existing` aside and the staged contents in; put everything back on a failure.

    Only renames within the config dir's own file system: nothing is copied, and the old
    contents are deleted last.
    """
    aside = Path(tempfile.mkdtemp(prefix=ASIDE_PREFIX, dir=config_dir))
    moved: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for path in existing:
            parked = aside / path.relative_to(config_dir)
            parked.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, parked)
            moved.append((path, parked))
        _move_contents(staging, config_dir, placed)
    except OSError as err:
        for path in reversed(placed):
            _remove(path)
        for path, parked in reversed(moved):
            os.replace(parked, path)
        shutil.rmtree(aside, ignore_errors=True)
        if err.errno == errno.EBUSY:
            raise BackupError(
                f"Cannot restore into {config_dir}: {err.filename} is in use or a mount point "
                "of its own, so it cannot be replaced. Nothing in the config dir was changed; "
                "unmount it (or restore into an empty folder) and try again."
            ) from err
        raise
    shutil.rmtree(aside)


def _check_member(member: tarfile.TarInfo) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts or member.name.startswith(("/", "\\")):
        raise BackupError(f"Refusing archive member {member.name!r}: it would be written "
                          "outside the config dir")
    if not (member.isfile() or member.isdir() or member.issym()):
        raise BackupError(f"Refusing archive member {member.name!r}: not a file or folder")
    if member.issym():
        target = PurePosixPath(member.linkname)
        if target.is_absolute() or ".." in (path.parent / target).parts:
            raise BackupError(f"Refusing archive member {member.name!r}: a link pointing "
                              "outside the config dir")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _move_contents(source: Path, target: Path, placed: list[Path]) -> None:
    """Move what is in `source` into `target`, merging folders; lists what it put there."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        destination = target / item.name
        if item.is_dir() and destination.is_dir():
            _move_contents(item, destination, placed)
        else:
            os.replace(item, destination)
            placed.append(destination)


def _place_external_database(config_dir: Path, member: str | None) -> None:
    """Move a database kept outside the config dir to where the restored config says."""
    if member is None:
        return
    if not member.startswith(f"{EXTERNAL_DB_DIR}/"):
        _clear_side_files(config_dir / member)
        return
    restored = config_dir / member
    target = database_path_of_config_dir(config_dir)
    if target.exists():
        raise BackupError(f"The backup's recorder database belongs at {target}, which already "
                          f"exists. Move it aside and restore again (it is kept at {restored}).")
    target.parent.mkdir(parents=True, exist_ok=True)
    _clear_side_files(target)
    shutil.move(restored, target)
    shutil.rmtree(config_dir / EXTERNAL_DB_DIR, ignore_errors=True)


def _clear_side_files(database: Path) -> None:
    """A WAL left from another database must not be applied to the restored one."""
    for side in DB_SIDE_FILES:
        database.with_name(database.name + side).unlink(missing_ok=True)
