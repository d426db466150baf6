"""WAV files (blocking helpers for the executor): length, and clips at a volume, repeated."""

from __future__ import annotations

import os
import shutil
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plantpulse.integrations.speaker.errors import SpeakerError

_SAMPLE_WIDTH = 2  # espeak-ng writes 16-bit PCM


@dataclass(frozen=True, slots=True)
class WavInfo:
    """The format and length of a WAV file."""

    channels: int
    sample_width: int
    frame_rate: int
    frames: int

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.frames / self.frame_rate


def wav_info(path: Path) -> WavInfo:
    """Read a WAV file's header. Raises SpeakerError when it is not a WAV file."""
    try:
        with wave.open(str(path), "rb") as reader:
            return WavInfo(reader.getnchannels(), reader.getsampwidth(), reader.getframerate(),
                           reader.getnframes())
    except (wave.Error, EOFError) as err:
        raise SpeakerError(f"{path.name} is not a usable WAV file: {err}") from err


def link_or_copy(source: Path, target: Path) -> None:
    """A second name for the file (a hard link, a copy where links are impossible)."""
    target.parent.mkdir(parents=True, exist_ok=True)  # the folder may have been cleaned
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def make_clip(source: Path, target: Path, volume: int, repeat: int, gap: float) -> None:
    """Write `source` at `volume` percent, `repeat` times with `gap` seconds of silence between.

    At full volume and once it is the same file under another name, without copying.
    """
    if volume == 100 and repeat == 1:
        link_or_copy(source, target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(source), "rb") as reader:
        params = reader.getparams()
        samples = np.frombuffer(reader.readframes(params.nframes), dtype="<i2")
    if params.sampwidth != _SAMPLE_WIDTH:
        raise SpeakerError(f"{source.name} has {params.sampwidth * 8}-bit samples; expected 16")
    scaled = (samples.astype(np.float32) * (volume / 100)).round().astype("<i2")
    silence = np.zeros(round(gap * params.framerate) * params.nchannels, dtype="<i2")
    pieces = [scaled]
    for _ in range(repeat - 1):
        pieces += [silence, scaled]
    with wave.open(str(target), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(np.concatenate(pieces).tobytes())
