"""Values entered by people at the time they belong to: a time-ordered log, and a sensor that
files each value under its own (measured) time so late entries land in the right period.

Shared by manual_meter and production.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.platforms.sensor import SensorEntity, StateClass
from plantpulse.core.restore_state import RestoreEntity

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

# Entries kept per sensor (for validating late entries and restoring); older ones are dropped.
MAX_ENTRIES: Final = 1_000
# An entry may be dated this far ahead of the hub's clock (a clock a little off), no more.
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
EXTRA_ENTRIES: Final = "entries"


class Entry(NamedTuple):
    """One value at the time it belongs to (POSIX seconds); `mark` notes a meter swap."""

    ts: float
    value: float
    mark: str | None = None


def parse_time(hub: Hub, value: Any) -> datetime:
    """A service's `time`: a datetime or ISO 8601 text; without an offset, site time."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ServiceValidationError(
                f"time {value!r} is not ISO 8601 (e.g. 2024-03-01T08:00:00+08:00)") from None
    if not isinstance(value, datetime):
        raise ServiceValidationError(f"time must be a date and time, not {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=hub.site.tz)
    if value > hub.clock.now() + FUTURE_TOLERANCE:
        raise ServiceValidationError(f"time {value.isoformat()} is in the future")
    return value


class EntryLog:
    """Entries in time order; an entry at the time of another replaces it."""

    def __init__(self, entries: list[Entry] | None = None) -> None:
        self.entries: list[Entry] = sorted(entries or [])

    def before(self, ts: float) -> Entry | None:
        """The last entry before `ts`."""
        index = bisect_left(self.entries, (ts,))
        return self.entries[index - 1] if index else None

    def after(self, ts: float) -> Entry | None:
        """The first entry after `ts`."""
        index = bisect_left(self.entries, (ts,))
        while index < len(self.entries) and self.entries[index].ts <= ts:
            index += 1
        return self.entries[index] if index < len(self.entries) else None

    def put(self, entry: Entry) -> None:
        """Add `entry` (replacing one at the same time); drop the oldest beyond MAX_ENTRIES."""
        index = bisect_left(self.entries, (entry.ts,))
        if index < len(self.entries) and self.entries[index].ts == entry.ts:
            self.entries[index] = entry
        else:
            self.entries.insert(index, entry)
        del self.entries[:-MAX_ENTRIES]

    @property
    def last(self) -> Entry | None:
        """The newest entry."""
        return self.entries[-1] if self.entries else None

    def as_extra(self) -> dict[str, Any]:
        """JSON-able, for the restore state."""
        return {EXTRA_ENTRIES: [list(entry) for entry in self.entries]}

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any] | None) -> EntryLog:
        """The log saved with `as_extra` (empty when missing or unreadable)."""
        try:
            return cls([Entry(float(ts), float(value), mark)
                        for ts, value, mark in (extra or {}).get(EXTRA_ENTRIES, [])])
        except (TypeError, ValueError):
            return cls()


class EnteredSensor(RestoreEntity, SensorEntity):
    """A total_increasing sensor whose value is the newest entry; each entry is written under
    its own time (an older one as late data, so statistics file it in its period)."""

    _attr_state_class = StateClass.TOTAL_INCREASING

    def __init__(self, object_id: str, name: str, unit: str) -> None:
        self.entity_id = f"sensor.{object_id}"
        self._attr_name = name
        self._attr_native_unit_of_measurement = unit
        self.log = EntryLog()

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        self.log = EntryLog.from_extra(await self.async_get_last_extra_data())
        self._show_last()

    @property
    def extra_restore_data(self) -> dict[str, Any]:
        return self.log.as_extra()

    def _show_last(self) -> None:
        last = self.log.last
        self._attr_native_value = None if last is None else last.value
        self._attr_measured_at = (None if last is None
                                  else datetime.fromtimestamp(last.ts, self.hub.site.tz))

    def async_write_entries(self, entries: list[Entry]) -> None:
        """Add `entries` to the log and write each under its time (newest last)."""
        for entry in entries:
            self.log.put(entry)
        newest = self.log.last
        for entry in sorted(entries):
            if newest is not None and entry.ts < newest.ts:
                self._attr_native_value = entry.value
                self.async_write_state(datetime.fromtimestamp(entry.ts, self.hub.site.tz))
        self._show_last()
        self.async_write_state()
