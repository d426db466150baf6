"""Flapping: a key raised and cleared again and again, whose notifications would only be noise.

A key that changes (raised anew or cleared) more than `max_changes` times within `window`
is flapping. It stays flapping until it has not changed for a whole `window`; meanwhile its
alarms are kept and recorded as usual, but nobody is notified.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FlappingConfig:
    """When a key counts as flapping."""

    enabled: bool
    max_changes: int
    window: float  # seconds


class FlapDetector:
    """Counts each key's changes within the window and says which keys flap."""

    def __init__(self, config: FlappingConfig) -> None:
        self.config = config
        self._changes: dict[str, deque[float]] = {}
        self._flapping: dict[str, int] = {}  # key -> changes counted while flapping

    def record(self, key: str, now: float) -> bool:
        """Count a change of `key` at `now`; True when this change makes it flap."""
        if not self.config.enabled:
            return False
        changes = self._changes.setdefault(key, deque())
        changes.append(now)
        while changes and changes[0] <= now - self.config.window:
            changes.popleft()
        if key in self._flapping:
            self._flapping[key] += 1
            return False
        if len(changes) > self.config.max_changes:
            self._flapping[key] = len(changes)
            return True
        return False

    def is_flapping(self, key: str) -> bool:
        """Whether notifications about `key` are held back."""
        return key in self._flapping

    def last_change(self, key: str) -> float | None:
        """When `key` last changed (None if not within the window)."""
        changes = self._changes.get(key)
        return changes[-1] if changes else None

    def quiet_until(self, key: str) -> float | None:
        """When a flapping `key` that does not change again stops flapping."""
        last = self.last_change(key)
        return None if last is None or key not in self._flapping else last + self.config.window

    def end(self, key: str) -> int:
        """Stop flapping; returns how often the key changed while it flapped."""
        self._changes.pop(key, None)
        return self._flapping.pop(key, 0)

    def prune(self, now: float) -> None:
        """Forget keys that have not changed within the window and do not flap."""
        cutoff = now - self.config.window
        for key in [key for key, times in self._changes.items()
                    if key not in self._flapping and (not times or times[-1] <= cutoff)]:
            del self._changes[key]

    def stored(self) -> dict[str, Any]:
        """The recent changes and flapping keys, to survive a restart."""
        return {
            "changes": {key: list(times) for key, times in self._changes.items() if times},
            "flapping": dict(self._flapping),
        }

    def restore(self, data: dict[str, Any]) -> None:
        """Take back what `stored` returned."""
        self._changes = {key: deque(times) for key, times in data.get("changes", {}).items()}
        self._flapping = {key: int(count) for key, count in data.get("flapping", {}).items()}

    def flapping_keys(self) -> list[str]:
        """The keys flapping now."""
        return list(self._flapping)
