"""Login throttling: too many failed logins or forged tokens from one address ban it a while."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Final

_LOGGER = logging.getLogger(__name__)

# Addresses with failures, and banned addresses, tracked at once; the oldest are forgotten
# first, so a flood from many addresses cannot grow memory.
MAX_TRACKED: Final = 10_000


class LoginThrottle:
    """Counts failures per client address; `threshold` within `window` seconds bans for `ban`.

    The clock is monotonic, so changing the system time neither lifts nor extends a ban.
    """

    def __init__(
        self,
        threshold: int,
        window: float,
        ban: float,
    ) -> None:
        self.threshold = threshold
        self.window = window
        self.ban = ban
        self._failures: dict[str, deque[float]] = {}
        # Every ban lasts `ban` seconds, so insertion order is also the order bans end in.
        self._banned_until: dict[str, float] = {}

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may try again; 0 when it is not banned."""
        until = self._banned_until.get(address)
        if until is None:
            return 0.0
        remaining = until - time.monotonic()
        if remaining <= 0:
            del self._banned_until[address]
            return 0.0
        return remaining

    def banned(self) -> dict[str, float]:
        """The addresses banned now with the seconds each has left, the latest ban last."""
        now = time.monotonic()
        self._prune_bans(now)
        return {address: until - now for address, until in self._banned_until.items()}

    def record_failure(self, address: str) -> bool:
        """Count a failure; returns True when this one bans the address."""
        now = time.monotonic()
        failures = self._failures.pop(address, None) or deque()
        self._failures[address] = failures
        failures.append(now)
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if len(self._failures) > MAX_TRACKED:
            del self._failures[next(iter(self._failures))]
        if len(failures) < self.threshold:
            return False
        del self._failures[address]
        self._prune_bans(now)
        self._banned_until.pop(address, None)
        self._banned_until[address] = now + self.ban
        if len(self._banned_until) > MAX_TRACKED:
            lifted = next(iter(self._banned_until))
            del self._banned_until[lifted]
            _LOGGER.warning("More than %d addresses banned: lifted the ban of %s early",
                            MAX_TRACKED, lifted)
        _LOGGER.warning(
            "Banned %s for %.0f minutes after %d failed logins or invalid tokens",
            address, self.ban / 60, len(failures),
        )
        return True

    def record_success(self, address: str) -> None:
        """Forget earlier failures of an address that has just logged in."""
        self._failures.pop(address, None)

    def _prune_bans(self, now: float) -> None:
        while self._banned_until:
            address, until = next(iter(self._banned_until.items()))
            if until > now:
                return
            del self._banned_until[address]
