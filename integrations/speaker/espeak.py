"""espeak-ng run as an asyncio subprocess: a speech script in, a WAV file out, within a timeout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from plantpulse.integrations.speaker.const import ESPEAK, SYNTHESIS_TIMEOUT
from plantpulse.integrations.speaker.errors import SpeakerError
from plantpulse.integrations.speaker.script import SpeechScript

_LOGGER = logging.getLogger(__name__)

MISSING_MESSAGE = (
    "espeak-ng is not installed, so the hub cannot speak: install it with "
    "`apt-get install espeak-ng` and call speaker.say again"
)


@dataclass(frozen=True, slots=True)
class Prosody:
    """How fast and how high espeak-ng speaks."""

    rate: int  # words per minute
    pitch: int  # 0-99, 50 is the voice's own


class EspeakEngine:
    """Synthesises WAV files with the espeak-ng program; never blocks the event loop."""

    def __init__(self, executable: str = ESPEAK, timeout: float = SYNTHESIS_TIMEOUT) -> None:
        self.executable = executable
        self.timeout = timeout
        self.spawned = 0  # espeak-ng processes started, for the log and for tests

    def command(self, script: SpeechScript, prosody: Prosody, output: Path) -> list[str]:
        """The espeak-ng command line writing `script` to `output`; the text comes on stdin."""
        command = [self.executable, "-b", "1", "-v", script.voice, "-s", str(prosody.rate),
                   "-p", str(prosody.pitch), "-w", str(output), "--stdin"]
        if script.is_ssml:
            command.insert(1, "-m")
        return command

    async def async_version(self) -> str:
        """espeak-ng's version line (its data path included), part of every cache key.

        Raises SpeakerError when espeak-ng is missing or does not answer.
        """
        stdout, _stderr = await self._async_run([self.executable, "--version"], b"")
        return stdout.decode(errors="replace").strip()

    async def async_synthesize(
        self, script: SpeechScript, prosody: Prosody, output: Path
    ) -> None:
        """Write the spoken script to `output` as a WAV file. Raises SpeakerError."""
        await self._async_run(
            self.command(script, prosody, output), script.espeak_input().encode()
        )
        _LOGGER.debug("espeak-ng wrote %s (%s, %d segments)", output, script.language,
                      len(script.segments))

    async def _async_run(self, command: list[str], stdin: bytes) -> tuple[bytes, bytes]:
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError:
            raise SpeakerError(MISSING_MESSAGE) from None
        self.spawned += 1
        try:
            async with asyncio.timeout(self.timeout):
                stdout, stderr = await process.communicate(stdin)
        except TimeoutError:
            raise SpeakerError(
                f"espeak-ng did not finish within {self.timeout:g} s and was stopped; "
                "shorten the message"
            ) from None
        finally:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if process.returncode != 0:
            detail = stderr.decode(errors="replace").strip() or f"exit code {process.returncode}"
            raise SpeakerError(f"espeak-ng failed: {detail}")
        return stdout, stderr
