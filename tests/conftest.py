"""Shared fixtures: a fresh hub per test, configs written to a temp dir, leak checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import textwrap
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from plantpulse.core.bootstrap import async_setup_hub
from plantpulse.core.clock import Clock
from plantpulse.core.hub import Hub

HubFactory = Callable[..., Awaitable[Hub]]


def write_config(config_dir: Path, text: str, files: dict[str, str] | None = None) -> Path:
    """Write `configuration.yaml` and extra files (paths relative to the dir), dedented."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    for name, content in (files or {}).items():
        path = config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    return config_dir


class LoopStallMeter:
    """Measures the longest stall of the event loop while in use.

        async with LoopStallMeter() as meter:
            ...work...
        assert meter.worst < 0.1
    """

    TICK = 0.005

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.TICK)
            self.worst = max(self.worst, loop.time() - before - self.TICK)

    async def __aenter__(self) -> LoopStallMeter:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now, for a hub's `server_port`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    """A bare hub (no integrations) in an empty config dir, stopped after the test."""
    instance = Hub(tmp_path)
    await asyncio.gather(
        instance.area_registry.async_load(),
        instance.device_registry.async_load(),
        instance.entity_registry.async_load(),
    )
    yield instance
    await instance.async_stop()


@pytest.fixture
async def hub_factory(tmp_path: Path) -> AsyncIterator[HubFactory]:
    """Build hubs from YAML text: `await hub_factory(yaml, extra_files={...}, start=True,
    clock=ManualClock(...))`."""
    hubs: list[Hub] = []

    async def factory(
        text: str, extra_files: dict[str, str] | None = None, start: bool = True,
        config_dir: Path | None = None, clock: Clock | None = None,
    ) -> Hub:
        folder = config_dir or tmp_path / f"config{len(hubs)}"
        write_config(folder, text, extra_files)
        instance = await async_setup_hub(folder, clock)
        hubs.append(instance)
        if start:
            await instance.async_start()
        return instance

    yield factory
    for instance in hubs:
        await instance.async_stop()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> AsyncIterator[None]:
    """Fail a test that leaves threads behind (an executor or connection not closed)."""
    before = {thread.ident for thread in threading.enumerate()}
    yield
    leaked = [
        thread for thread in threading.enumerate()
        if thread.ident not in before and thread.is_alive()
        and not thread.name.startswith(("asyncio_", "ThreadPoolExecutor"))
    ]
    for thread in leaked:
        thread.join(timeout=2)
    leaked = [thread for thread in leaked if thread.is_alive()]
    assert not leaked, f"threads left running: {[thread.name for thread in leaked]}"


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 16 KiB tmpfs: a real full disk (and, remounted `ro`, a real read-only one). Root only."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=False)
