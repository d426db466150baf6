"""A real mosquitto broker per test, a client to play the gateway, and a wait helper."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest

from plantpulse.core.hub import Hub
from tests.conftest import free_port

MOSQUITTO_PATHS = ("mosquitto", "/usr/sbin/mosquitto")
START_TIMEOUT = 5.0


def find_program(*names: str) -> str:
    """The first of `names` found; skips the test (fails under `make test` as root) if none."""
    for name in names:
        found = shutil.which(name) or (name if os.path.isabs(name) and os.access(name, os.X_OK)
                                       else None)
        if found:
            return found
    reason = (f"{names[0]} missing: install with `apt-get install -y mosquitto` "
              "(`make test` does so as root)")
    if os.environ.get("PLANTPULSE_REQUIRE_TEST_DEBS") == "1":
        pytest.fail(f"MOSQUITTO MISSING although make test installs it: {reason}")
    pytest.skip(f"MQTT TESTS SKIPPED: {reason}")


class Broker:
    """A mosquitto process on 127.0.0.1 that a test can stop and start again on its port."""

    def __init__(self, folder: Path, password_file: Path | None = None) -> None:
        self.program = find_program(*MOSQUITTO_PATHS)
        self.host = "127.0.0.1"
        self.port = free_port()
        self.config = folder / "mosquitto.conf"
        lines = [f"listener {self.port} {self.host}", "persistence false",
                 "log_dest stderr", "log_type error", "log_type warning",
                 # As root, mosquitto would switch to user `mosquitto`, who cannot read tmp.
                 f"user {getpass.getuser()}"]
        if password_file is None:
            lines.append("allow_anonymous true")
        else:
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start mosquitto and wait until its port takes connections."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([self.program, "-c", str(self.config)],
                                            stdout=log, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError(f"mosquitto did not listen on {self.port}: {self.log.read_text()}")

    def stop(self) -> None:
        """Kill mosquitto (as a crash or a power cut would: no goodbye to clients)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def yaml(self, extra: str = "") -> str:
        """An `mqtt:` block pointing at this broker, with `extra` lines (indented 2)."""
        return f"mqtt:\n  broker: {self.host}\n  port: {self.port}\n{extra}"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A running anonymous mosquitto."""
    folder = tmp_path / "broker"
    folder.mkdir()
    instance = Broker(folder)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[Broker]:
    """A running mosquitto that takes only user `meter` with password `kWh-2026`."""
    program = find_program("mosquitto_passwd")
    folder = tmp_path / "broker"
    folder.mkdir()
    password_file = folder / "passwords"
    subprocess.run([program, "-c", "-b", str(password_file), "meter", "kWh-2026"], check=True,
                   capture_output=True)
    password_file.chmod(0o600)
    instance = Broker(folder, password_file)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
async def gateway(broker: Broker) -> AsyncIterator[aiomqtt.Client]:
    """A separate MQTT client on the broker, playing a gateway or a device."""
    async with aiomqtt.Client(broker.host, broker.port, identifier="test-gateway") as client:
        yield client


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Wait (real time: messages cross a real broker) until `condition()` holds."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.01)


def state_of(hub: Hub, entity_id: str) -> str | None:
    """The state string of an entity, or None when it has no state."""
    state = hub.states.get(entity_id)
    return None if state is None else state.state
