"""Backup and restore of a config dir with its recorder database, also while the hub runs."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sqlite3
import subprocess
import tarfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plantpulse.core.backup import BackupError, create_backup, restore_backup
from plantpulse.core.exceptions import HubRunningError
from plantpulse.core.recorder import get_recorder
from plantpulse.core.storage import ConfigDirLock
from tests.conftest import HubFactory, write_config

CONFIG = """
    plantpulse:
      name: 二号车间
    recorder:
      purge_keep_days: 30
    """
EXTRA = {
    "secrets.yaml": "gateway_password: s3cret\n",
    "custom_integrations/line_counter/manifest.yaml": "domain: line_counter\n",
}


def members(archive: Path) -> set[str]:
    with tarfile.open(archive, "r:gz") as tar:
        return set(tar.getnames())


async def test_backup_while_running_and_restore(hub_factory: HubFactory, tmp_path: Path) -> None:
    source = tmp_path / "plant"
    hub = await hub_factory(CONFIG, extra_files=EXTRA, config_dir=source)
    recorder = get_recorder(hub)
    assert recorder is not None
    start = datetime.now(UTC) - timedelta(minutes=5)
    for value in range(200):
        hub.states.async_set("sensor.press_power", str(value), {"unit_of_measurement": "kW"})
    await recorder.async_flush()
    assert (source / "plantpulse.db-wal").exists()
    lock = ConfigDirLock(source)
    lock.acquire()
    try:
        archive = await asyncio.to_thread(create_backup, source, tmp_path / "out" / "b.tar.gz")
    finally:
        lock.release()
    for value in range(200, 300):
        hub.states.async_set("sensor.press_power", str(value), {"unit_of_measurement": "kW"})
    await recorder.async_flush()

    names = members(archive)
    assert {"configuration.yaml", "secrets.yaml", "plantpulse.db",
            "custom_integrations/line_counter/manifest.yaml"} <= names
    assert not names & {"plantpulse.db-wal", "plantpulse.db-shm", ".storage/.lock"}

    target = tmp_path / "restored"
    await asyncio.to_thread(restore_backup, archive, target, False)
    assert (target / "secrets.yaml").read_text() == "gateway_password: s3cret\n"
    restored = await hub_factory(CONFIG, config_dir=target)
    restored_recorder = get_recorder(restored)
    assert restored_recorder is not None
    assert restored.site.name == "二号车间"
    history = await restored_recorder.async_get_history(["sensor.press_power"], start)
    assert [row["state"] for row in history["sensor.press_power"]] == [
        str(value) for value in range(200)
    ]


async def test_backup_without_a_database_and_default_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_config(tmp_path / "plant", "plantpulse:\n  name: Test\n")
    monkeypatch.chdir(tmp_path)
    archive = create_backup(source)
    assert archive.parent == tmp_path
    assert re.fullmatch(r"plantpulse-backup-\d{8}T\d{6}Z\.tar\.gz", archive.name)
    assert "configuration.yaml" in members(archive)
    assert "plantpulse.db" not in members(archive)
    assert archive.stat().st_mode & 0o777 == 0o600, "it holds token keys and secrets"


def test_restore_refuses_while_a_hub_holds_the_dir(tmp_path: Path) -> None:
    source = write_config(tmp_path / "plant", "plantpulse:\n")
    archive = create_backup(source, tmp_path / "b.tar.gz")
    target = tmp_path / "running"
    lock = ConfigDirLock(target)
    lock.acquire()
    try:
        with pytest.raises(HubRunningError, match="stop it before restoring"):
            restore_backup(archive, target, force=True)
    finally:
        lock.release()
    assert not (target / "configuration.yaml").exists()


def test_restore_refuses_a_dir_in_use_unless_forced(tmp_path: Path) -> None:
    source = write_config(tmp_path / "plant", "plantpulse:\n  name: From backup\n")
    archive = create_backup(source, tmp_path / "b.tar.gz")
    target = write_config(tmp_path / "other", "plantpulse:\n  name: Other\n",
                          {"notes.txt": "keep?"})
    with pytest.raises(BackupError, match=r"not empty.*--force"):
        restore_backup(archive, target, force=False)
    assert "Other" in (target / "configuration.yaml").read_text()

    restore_backup(archive, target, force=True)
    assert "From backup" in (target / "configuration.yaml").read_text()
    assert not (target / "notes.txt").exists()


@pytest.mark.parametrize("name", ["../outside.yaml", "/etc/evil.yaml", "a/../../evil"])
def test_restore_refuses_members_outside_the_dir(tmp_path: Path, name: str) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"plantpulse:\n"
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    target = tmp_path / "target"
    with pytest.raises(BackupError, match="outside the config dir"):
        restore_backup(archive, target, force=False)
    assert not (tmp_path / "outside.yaml").exists()
    assert [path.name for path in target.iterdir()] == [".storage"]


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path) -> None:
    archive = tmp_path / "photos.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("photo.jpg")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(BackupError, match="not a PlantPulse backup"):
        restore_backup(archive, tmp_path / "target", force=False)


def mount_tmpfs(folder: Path, size: str) -> None:
    """Make `folder` a tmpfs mount point of its own (root only; skipped loudly otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("SKIPPED LOUDLY: mounting a tmpfs needs root (CI runs as root)")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"SKIPPED LOUDLY: cannot mount a tmpfs here: {result.stderr.strip()}")


@pytest.fixture
def volume(tmp_path: Path) -> Iterator[Path]:
    """A config dir that is a mount point, as /config is a volume in Docker."""
    folder = tmp_path / "config"
    mount_tmpfs(folder, "4m")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under `folder`, by relative path; not the lock
    file restoring takes."""
    found: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if name != ".storage/.lock":
            found[name] = path.read_bytes() if path.is_file() else None
    return found


def test_forced_restore_onto_a_mount_point(tmp_path: Path, volume: Path) -> None:
    source = write_config(tmp_path / "plant", "plantpulse:\n  name: From backup\n", EXTRA)
    database = sqlite3.connect(source / "plantpulse.db")
    database.execute("CREATE TABLE readings (value REAL)")
    database.execute("INSERT INTO readings VALUES (42.5)")
    database.commit()
    database.close()
    archive = create_backup(source, tmp_path / "b.tar.gz")
    write_config(volume, "plantpulse:\n  name: Old\n", {"notes.txt": "old notes",
                                                            ".storage/auth": "{}"})

    restore_backup(archive, volume, force=True)

    assert "From backup" in (volume / "configuration.yaml").read_text()
    assert (volume / "secrets.yaml").read_text() == "gateway_password: s3cret\n"
    assert not (volume / "notes.txt").exists()
    assert not (volume / ".storage" / "auth").exists()
    restored = sqlite3.connect(volume / "plantpulse.db")
    try:
        assert restored.execute("SELECT value FROM readings").fetchall() == [(42.5,)]
    finally:
        restored.close()
    assert not [path.name for path in volume.iterdir() if path.name.startswith(".restore")]


def test_restore_that_does_not_fit_changes_nothing(tmp_path: Path, tiny_tmpfs: Path) -> None:
    source = write_config(tmp_path / "plant", "plantpulse:\n  name: From backup\n",
                          {"recipes.csv": "batch;temperature\n" * 4_000})
    archive = create_backup(source, tmp_path / "b.tar.gz")
    write_config(tiny_tmpfs, "plantpulse:\n  name: Old\n", {".storage/auth": "{}"})
    before = snapshot(tiny_tmpfs)

    with pytest.raises(BackupError, match=r"No space left on device\. Nothing in it was changed"):
        restore_backup(archive, tiny_tmpfs, force=True)

    assert snapshot(tiny_tmpfs) == before


def test_restore_puts_everything_back_when_a_folder_cannot_be_moved(
    tmp_path: Path, volume: Path
) -> None:
    source = write_config(tmp_path / "plant", "plantpulse:\n  name: From backup\n")
    archive = create_backup(source, tmp_path / "b.tar.gz")
    write_config(volume, "plantpulse:\n  name: Old\n", {".storage/auth": "{}"})
    media = volume / "media"
    mount_tmpfs(media, "64k")
    try:
        (media / "clip.txt").write_text("camera clip")
        before = snapshot(volume)
        with pytest.raises(BackupError, match=r"media is in use or a mount point.*Nothing"):
            restore_backup(archive, volume, force=True)
        assert snapshot(volume) == before
    finally:
        subprocess.run(["umount", "-l", str(media)], check=False)
