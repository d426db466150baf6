"""Helpers for recorder tests: a hub with the recorder from YAML, and reading its database."""

from __future__ import annotations

import sqlite3
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from plantpulse.core.hub import Hub
from plantpulse.core.recorder import Recorder, get_recorder

POWER_ATTRIBUTES = {
    "unit_of_measurement": "kW", "device_class": "power",
    "state_class": "measurement", "friendly_name": "Line power",
}

RecorderHub = Callable[..., Awaitable[tuple[Hub, Recorder]]]


def query(path: Path, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the recorder's database with a separate plain connection, as a user would."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, parameters).fetchall()
    finally:
        conn.close()


def execute(path: Path, *statements: str) -> None:
    """Change the recorder's database behind its back (to stage a test), committing."""
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


@pytest.fixture
def recorder_hub(hub_factory: Callable[..., Awaitable[Hub]]) -> RecorderHub:
    """`hub, rec = await recorder_hub("commit_interval: 0")`: a running hub with a recorder."""

    async def make(options: str = "", time_zone: str = "Asia/Shanghai",
                   config_dir: Path | None = None) -> tuple[Hub, Recorder]:
        body = "\n".join(f"  {line}" for line in textwrap.dedent(options).strip().splitlines())
        hub = await hub_factory(
            f"plantpulse:\n  time_zone: {time_zone}\nrecorder:\n{body}\n",
            config_dir=config_dir,
        )
        assert not hub.config_issues, hub.config_issues
        recorder = get_recorder(hub)
        assert recorder is not None
        return hub, recorder

    return make
