"""Speaker test helpers: the Debian programs the tests need, WAV measurements, a local receiver.

espeak-ng and aplay (alsa-utils) are real: tests that need them skip loudly when they are
missing, or fail when `make test` (as root) promised to install them.
"""

from __future__ import annotations

import io
import os
import shutil
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from plantpulse.core.hub import Hub
from plantpulse.integrations.speaker.broadcast import Broadcaster
from tests.conftest import free_port

# The sentence of the product brief (line 1 after the shift at 42 kW) and an English one.
ZH_PHRASE = "一号生产线下班后负荷42千瓦"
EN_PHRASE = "Line one load is forty two kilowatts after the shift."
# Mean loudness (RMS, full scale 1.0) below which a WAV counts as silence; espeak-ng speech
# measures about 0.1 here.
SILENCE_RMS = 0.02


def require_programs(*programs: str) -> None:
    """Skip (or, under `make test` as root, fail) when a Debian program is missing."""
    missing = [program for program in programs if shutil.which(program) is None]
    if not missing:
        return
    reason = (f"{', '.join(missing)} missing: install with `apt-get install -y espeak-ng "
              "alsa-utils` (`make test` does so as root)")
    if os.environ.get("PLANTPULSE_REQUIRE_TEST_DEBS") == "1":
        pytest.fail(f"SPEAKER PROGRAMS MISSING although make test installs them: {reason}")
    pytest.skip(f"SPEAKER TESTS SKIPPED: {reason}")


@pytest.fixture
def espeak() -> None:
    """The test needs espeak-ng."""
    require_programs("espeak-ng")


@pytest.fixture
def espeak_and_aplay() -> None:
    """The test needs espeak-ng and aplay."""
    require_programs("espeak-ng", "aplay")


@dataclass(frozen=True)
class WavStats:
    """What a test checks of a WAV: format, length and loudness."""

    channels: int
    frame_rate: int
    duration: float
    rms: float  # root mean square of the samples, full scale 1.0
    samples: np.ndarray = field(repr=False)


def wav_stats(data: bytes | Path) -> WavStats:
    """Measure a WAV file (bytes or a path) with the wave module and numpy."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with wave.open(source, "rb") as reader:
        assert reader.getsampwidth() == 2, "expected 16-bit PCM"
        frames = reader.getnframes()
        samples = np.frombuffer(reader.readframes(frames), dtype="<i2")
        rate = reader.getframerate()
        channels = reader.getnchannels()
    scaled = samples.astype(np.float64) / 32768
    rms = float(np.sqrt(np.mean(scaled**2))) if len(scaled) else 0.0
    return WavStats(channels, rate, frames / rate, rms, samples)


def broadcaster(hub: Hub) -> Broadcaster:
    """The speaker integration's Python API of a hub."""
    return hub.data["speaker"]


@dataclass
class Receiver:
    """A real aiohttp server on 127.0.0.1 standing for an IP speaker: it records requests."""

    port: int
    requests: list[dict[str, Any]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


ReceiverHandler = Callable[[web.Request, Receiver], Awaitable[web.StreamResponse]]


@pytest.fixture
async def receiver_factory() -> AsyncIterator[Callable[[ReceiverHandler], Awaitable[Receiver]]]:
    """`await receiver_factory(handler)` starts a receiver calling `handler(request, receiver)`
    for every path and method."""
    runners: list[web.AppRunner] = []

    async def factory(handler: ReceiverHandler) -> Receiver:
        receiver = Receiver(free_port())

        async def handle(request: web.Request) -> web.StreamResponse:
            return await handler(request, receiver)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        runners.append(runner)
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        return receiver

    yield factory
    for runner in runners:
        await runner.cleanup()
