"""The hub as a new user runs it: the `plantpulse` command on the bundled demo config.

Seed a config dir, create a user and a token with the CLI, run the hub as a child process,
call the REST and WebSocket APIs, `kill -9` it, restart, and find the history from before;
stop it with SIGTERM; show a broken configuration's file and line.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from plantpulse.core.bootstrap import seed_config_dir
from tests.conftest import free_port

POWER = "sensor.zong_jin_xian_gong_lv"
PASSWORD = "a-long-password-42"


def plantpulse(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "plantpulse", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


class RunningHub:
    """`plantpulse run --config DIR` as a child process."""

    def __init__(self, config_dir: Path, port: int) -> None:
        self.config_dir = config_dir
        self.base = f"http://127.0.0.1:{port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, token: str) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "plantpulse", "run", "--config", str(self.config_dir),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                try:  # http answers first; the rest of the hub (recorder...) follows
                    async with session.get(f"{self.base}/api/config",
                                           headers=_auth(token)) as reply:
                        if reply.status == 200 and (await reply.json())["state"] == "RUNNING":
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError("the hub did not start serving within 60 s")

    async def signal(self, signum: int) -> int:
        assert self.process is not None
        self.process.send_signal(signum)
        return await asyncio.wait_for(self.process.wait(), 60)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def demo_config(tmp_path: Path) -> tuple[Path, int]:
    """The bundled demo config, served on a free loopback port, at 60× speed, no back-fill."""
    config_dir = tmp_path / "plant"
    assert seed_config_dir(config_dir)
    port = free_port()
    path = config_dir / "configuration.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^http:\s*$", f"http:\n  server_host: 127.0.0.1\n  server_port: {port}",
                  text)
    text = re.sub(r"(?m)^  speed: 1$", "  speed: 60", text)
    text = re.sub(r"(?m)^  history_days: \d+$", "  history_days: 0", text)
    path.write_text(text, encoding="utf-8")
    return config_dir, port


@pytest.fixture
async def hub_process(demo_config: tuple[Path, int]) -> AsyncIterator[RunningHub]:
    hub = RunningHub(*demo_config)
    yield hub
    if hub.process is not None and hub.process.returncode is None:
        hub.process.kill()
        await hub.process.wait()


async def test_new_user_flow(hub_process: RunningHub) -> None:
    config_dir = str(hub_process.config_dir)
    assert plantpulse("check-config", "--config", config_dir).returncode == 0
    added = plantpulse("user", "add", "ops", "--admin", "--config", config_dir,
                       stdin=f"{PASSWORD}\n{PASSWORD}\n")
    assert added.returncode == 0, added.stderr
    created = plantpulse("token", "create", "--user", "ops", "--name", "e2e",
                         "--config", config_dir)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]

    await hub_process.start(token)
    base = hub_process.base
    async with aiohttp.ClientSession(headers=_auth(token)) as session:
        async with session.get(f"{base}/api/") as reply:
            assert await reply.json() == {"message": "API running."}
        async with session.get(f"{base}/api/config") as reply:
            config = await reply.json()
        assert (config["time_zone"], config["currency"], config["language"]) == (
            "Asia/Shanghai", "CNY", "zh-CN")
        async with session.get(f"{base}/api/states/{POWER}") as reply:
            state = await reply.json()
        assert state["attributes"]["unit_of_measurement"] == "kW"
        assert state["attributes"]["simulated"] is True
        async with session.get(f"{base}/api/states/sensor.nope") as reply:
            assert reply.status == 404

        while_running = plantpulse("token", "create", "--user", "ops", "--name", "second",
                                   "--config", config_dir)
        assert while_running.returncode == 1
        assert "running" in while_running.stderr

        async with session.ws_connect(f"{base}/api/websocket") as socket:
            assert (await socket.receive_json())["type"] == "auth_required"
            await socket.send_json({"type": "auth", "access_token": token})
            assert (await socket.receive_json())["type"] == "auth_ok"
            await socket.send_json({"id": 1, "type": "subscribe_entities",
                                    "entity_ids": [POWER]})
            assert (await socket.receive_json())["success"] is True
            first = await socket.receive_json()
            assert POWER in first["event"]["a"]
            change = await asyncio.wait_for(socket.receive_json(), 10)
            assert "+" in change["event"]["c"][POWER]

        start = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        seen_before_kill = await _history_rows(session, base, start)
        deadline = time.monotonic() + 15
        while len(seen_before_kill) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(1)
            seen_before_kill = await _history_rows(session, base, start)
        assert len(seen_before_kill) >= 3

    assert await hub_process.signal(signal.SIGKILL) == -signal.SIGKILL
    await hub_process.start(token)
    async with aiohttp.ClientSession(headers=_auth(token)) as session:
        after_restart = await _history_rows(session, base, start)
    changes_before = {row["last_changed"] for row in seen_before_kill[1:]}
    assert changes_before <= {row["last_changed"] for row in after_restart}

    started = time.monotonic()
    assert await hub_process.signal(signal.SIGTERM) == 0
    assert time.monotonic() - started < 30


async def _history_rows(session: aiohttp.ClientSession, base: str, start: str) -> list[dict]:
    async with session.get(f"{base}/api/history/period/{start}",
                           params={"filter_entity_id": POWER}) as reply:
        assert reply.status == 200
        answer = await reply.json()
    return answer[0] if answer else []


def test_broken_configuration_names_file_and_line(demo_config: tuple[Path, int]) -> None:
    config_dir, _port = demo_config
    path = config_dir / "configuration.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "  update_interval: 2", "  update_interval: soon"), encoding="utf-8")
    line = next(number for number, text in enumerate(path.read_text().splitlines(), 1)
                if "update_interval: soon" in text)
    result = plantpulse("check-config", "--config", str(config_dir))
    assert result.returncode == 1
    assert result.stdout.startswith(f"Invalid config for 'demo' (configuration.yaml, line {line}):")
    assert "update_interval" in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a read-only filesystem")
def test_read_only_config_dir_is_refused_clearly(tiny_tmpfs: Path) -> None:
    seed_config_dir(tiny_tmpfs / "plant")
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_tmpfs)], check=True)
    result = plantpulse("run", "--config", str(tiny_tmpfs / "plant"))
    assert result.returncode == 1
    assert "read-only" in result.stderr
    assert "Traceback" not in result.stderr
