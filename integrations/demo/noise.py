"""Reproducible noise for the simulation: AR(1) processes that are pure functions of time."""

from __future__ import annotations

import math
import zlib
from typing import Final

_MASK64: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_TWO_32: Final = float(1 << 32)
DEFAULT_MEMORY: Final = 48


def _mix64(value: int) -> int:
    """The splitmix64 finaliser: a well-spread 64-bit hash of a 64-bit integer."""
    value = (value + _GOLDEN) & _MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK64
    return value ^ (value >> 31)


def stream_key(seed: int, name: str) -> int:
    """The key of one named noise stream under a seed; adding streams never shifts others."""
    return _mix64((seed & _MASK64) ^ _mix64(zlib.crc32(name.encode())))


def gaussian(key: int, index: int) -> float:
    """A standard normal number drawn from a hash of (stream key, index), by Box-Muller."""
    bits = _mix64((key + _mix64(index & _MASK64)) & _MASK64)
    first = ((bits >> 32) + 0.5) / _TWO_32
    second = ((bits & 0xFFFFFFFF) + 0.5) / _TWO_32
    return math.sqrt(-2.0 * math.log(first)) * math.cos(2.0 * math.pi * second)


class Ar1Noise:
    """Zero-mean, unit-variance AR(1) noise on a time grid, linear between grid points.

    The value at grid index n is the sum of the last `memory` innovations weighted by
    phi**age, each innovation drawn from a hash of (stream key, index). So a seed gives the
    same value at the same time whatever order times are asked in; asking in increasing order
    (the usual case) costs two draws per grid step.
    """

    __slots__ = ("_index", "_key", "_memory", "_phi", "_previous", "_scale", "_step", "_sum",
                 "_tail")

    def __init__(
        self, key: int, step: float, correlation_time: float, memory: int = DEFAULT_MEMORY
    ) -> None:
        phi = math.exp(-step / correlation_time)
        self._key = key
        self._step = step
        self._memory = memory
        self._phi = phi
        self._tail = phi**memory
        self._scale = 1.0 / math.sqrt(sum(phi ** (2 * age) for age in range(memory)))
        self._index: int | None = None
        self._sum = 0.0
        self._previous: float | None = None

    def __call__(self, time: float) -> float:
        """The noise value at `time` (seconds, any origin)."""
        position = time / self._step
        index = math.floor(position)
        fraction = position - index
        here = self._sum_at(index)
        after = self._sum_at(index + 1)
        return (here + (after - here) * fraction) * self._scale

    def _sum_at(self, index: int) -> float:
        current = self._index
        if current is not None:
            if index == current:
                return self._sum
            if index == current - 1 and self._previous is not None:
                return self._previous
            if current < index and 2 * (index - current) < self._memory:
                for step_index in range(current + 1, index + 1):
                    self._slide(step_index)
                return self._sum
        self._index = index
        self._sum = sum(
            self._phi**age * gaussian(self._key, index - age) for age in range(self._memory)
        )
        self._previous = None
        return self._sum

    def _slide(self, index: int) -> None:
        self._previous = self._sum
        self._sum = (
            self._phi * self._sum
            + gaussian(self._key, index)
            - self._tail * gaussian(self._key, index - self._memory)
        )
        self._index = index
