"""The hub's clock: wall time and timers from one place, so time can be moved by hand.

`SystemClock` follows the system clock. `ManualClock` stands still until `advance()` moves it,
firing due timers in order: tests of "after 17:00", `for: 5 minutes` or a 10-minute delay run
in milliseconds, and a simulation can run a plant's day at any speed.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import UTC, datetime

from plantpulse.core.dt import from_timestamp

Cancel = Callable[[], None]
# Timers firing this close before their wall time count as due: the event loop's clock and
# the wall clock drift apart by microseconds.
_EARLY_TOLERANCE = 0.001
# How often ManualClock lets the loop run after each timer, so tasks it woke can schedule
# their next timer before the clock moves on.
_SETTLE_STEPS = 20


class Clock(ABC):
    """Wall time and timers of a hub."""

    @abstractmethod
    def time(self) -> float:
        """The current POSIX timestamp."""

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return from_timestamp(self.time())

    def call_later(self, delay: float, callback: Callable[[], None]) -> Cancel:
        """Call `callback` after `delay` seconds; returns a function that cancels it."""
        return self.call_at(self.time() + max(0.0, delay), callback)

    @abstractmethod
    def call_at(self, timestamp: float, callback: Callable[[], None]) -> Cancel:
        """Call `callback` at wall time `timestamp`; returns a function that cancels it."""

    async def sleep(self, delay: float) -> None:
        """Wait `delay` seconds of this clock's time."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        cancel = self.call_later(delay, wake)
        try:
            await future
        finally:
            cancel()


class SystemClock(Clock):
    """The system's wall clock; timers run on the event loop."""

    time = staticmethod(time.time)  # type: ignore[assignment]

    def call_at(self, timestamp: float, callback: Callable[[], None]) -> Cancel:
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            nonlocal handle
            remaining = timestamp - time.time()
            if remaining > _EARLY_TOLERANCE:
                # The wall clock was set back (NTP) while waiting: wait for the rest.
                handle = loop.call_later(remaining, fire)
                return
            callback()

        handle = loop.call_later(max(0.0, timestamp - time.time()), fire)
        return lambda: handle.cancel()

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(delay)


class ManualClock(Clock):
    """A clock that moves only when told to; timers fire as `advance()` passes them."""

    def __init__(self, start: datetime | float) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._cancelled: set[int] = set()
        self._sequence = itertools.count()

    def time(self) -> float:
        return self._now

    def call_at(self, timestamp: float, callback: Callable[[], None]) -> Cancel:
        number = next(self._sequence)
        heapq.heappush(self._timers, (timestamp, number, callback))
        return lambda: self._cancelled.add(number)

    async def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, firing every timer that falls due, in order."""
        await self.advance_to(self._now + seconds)

    async def advance_to(self, moment: datetime | float) -> None:
        """Move time forward to `moment` (never backwards), firing due timers in order."""
        target = moment.timestamp() if isinstance(moment, datetime) else float(moment)
        await _settle()
        while self._timers and self._timers[0][0] <= target:
            timestamp, number, callback = heapq.heappop(self._timers)
            if number in self._cancelled:
                self._cancelled.discard(number)
                continue
            self._now = max(self._now, timestamp)
            callback()
            await _settle()
        self._now = max(self._now, target)
        await _settle()

    def __repr__(self) -> str:
        return f"<ManualClock {datetime.fromtimestamp(self._now, UTC).isoformat()}>"


async def _settle() -> None:
    for _ in range(_SETTLE_STEPS):
        await asyncio.sleep(0)
