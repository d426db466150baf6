"""schedule: weekly on/off windows in the site's local time (working hours, the night shift).

    schedule:
      day_shift:
        name: 白班
        monday:
          - from: "08:00:00"
            to: "12:00:00"
          - from: "13:00:00"
            to: "17:00:00"
            data: {shift: afternoon}   # optional: attributes while this window is on
      night_shift:
        friday:
          - from: "22:00:00"
            to: "24:00:00"             # a window across midnight ends at 24:00 ...
        saturday:
          - from: "00:00:00"           # ... and goes on the next day
            to: "06:00:00"

State `on` inside a window (from inclusive, to exclusive), else `off`; attribute `next_event`
(ISO, local: when the state next changes; windows that touch count as one), plus the
window's `data` while on. The state switches exactly at the edges on the hub clock, in
`plantpulse: time_zone:` (daylight saving included). Service `schedule.reload`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.entity import ToggleEntity
from plantpulse.core.states import State
from plantpulse.integrations.input_boolean.collection import (
    BASE_SCHEMA,
    HelperEntity,
    async_setup_helpers,
    helpers_schema,
)
from plantpulse.integrations.input_datetime import valid_time

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from plantpulse.core.hub import Hub

DOMAIN: Final = "schedule"
DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CONF_FROM: Final = "from"
CONF_TO: Final = "to"
CONF_DATA: Final = "data"
ATTR_NEXT_EVENT: Final = "next_event"
DAY_SECONDS: Final = 86_400
_END_OF_DAY: Final = ("24:00", "24:00:00")
# Days looked at around today: yesterday (a window running into today) to a week ahead.
_FIRST_DAY: Final = -1
_LAST_DAY: Final = 7


@dataclass(frozen=True, slots=True)
class Window:
    """An on-window of one weekday, in seconds after local midnight (end up to 24:00)."""

    start: int
    end: int
    data: Mapping[str, Any] = field(default_factory=dict)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _window(block: Any) -> Window:
    if not isinstance(block, dict):
        raise vol.Invalid("expected a window with 'from' and 'to'")
    unknown = set(block) - {CONF_FROM, CONF_TO, CONF_DATA}
    if unknown:
        raise vol.Invalid(f"unknown key '{sorted(unknown)[0]}' (a window has from, to, data)")
    if CONF_FROM not in block or CONF_TO not in block:
        raise vol.Invalid("a window needs both 'from' and 'to'")
    start = _seconds(valid_time(block[CONF_FROM]))
    raw_end = block[CONF_TO]
    end = DAY_SECONDS if str(raw_end).strip() in _END_OF_DAY else _seconds(valid_time(raw_end))
    if end <= start:
        raise vol.Invalid(f"'from' ({block[CONF_FROM]}) must be before 'to' ({raw_end})")
    data = block.get(CONF_DATA) or {}
    if not isinstance(data, dict):
        raise vol.Invalid("'data' must be a mapping of attribute names to values")
    return Window(start, end, dict(data))


def _windows(day: str, blocks: Any) -> tuple[Window, ...]:
    windows = []
    for number, block in enumerate(cv.ensure_list(blocks), start=1):
        try:
            windows.append(_window(block))
        except vol.Invalid as err:
            raise vol.Invalid(f"{day}, window {number}: {err.msg}") from None
    windows.sort(key=lambda window: window.start)
    for before, after in pairwise(windows):
        if after.start < before.end:
            raise vol.Invalid(f"{day}: windows overlap ({_clock(after.start)} starts before "
                              f"{_clock(before.end)})")
    return tuple(windows)


def _clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours:02}:{rest // 60:02}:{rest % 60:02}"


def _week(config: dict[str, Any]) -> dict[str, Any]:
    """Parse each weekday's windows; any problem drops the whole schedule, never one window."""
    return {**config, **{day: _windows(day, config.get(day)) for day in DAYS}}


CONFIG_SCHEMA: Final = helpers_schema(vol.All(vol.Schema({
    **BASE_SCHEMA,
    **{vol.Optional(day): object for day in DAYS},
}), _week))


def _at(day: date, seconds: int, zone: ZoneInfo) -> float:
    """The POSIX time of `seconds` after local midnight of `day` (86400: the next midnight)."""
    extra_days, rest = divmod(seconds, DAY_SECONDS)
    clock = time(rest // 3600, rest // 60 % 60, rest % 60)
    return datetime.combine(day + timedelta(days=extra_days), clock, zone).timestamp()


Span = tuple[float, float, Window]


def _spans(config: Mapping[str, Any], today: date, zone: ZoneInfo) -> list[Span]:
    """The windows from yesterday to a week ahead as POSIX (start, end, window), in order."""
    spans = []
    for offset in range(_FIRST_DAY, _LAST_DAY + 1):
        day = today + timedelta(days=offset)
        spans.extend(
            (_at(day, window.start, zone), _at(day, window.end, zone), window)
            for window in config[DAYS[day.weekday()]]
        )
    return sorted(spans, key=lambda span: span[:2])


class Schedule(HelperEntity, ToggleEntity):
    """On inside the weekly windows, off outside; switches at the edges on the hub clock."""

    DOMAIN = DOMAIN

    def __init__(self, object_id: str, config: Mapping[str, Any]) -> None:
        super().__init__(object_id, config)
        self._next_event: datetime | None = None
        self._data: Mapping[str, Any] = {}
        self._cancel_update: Callable[[], None] | None = None

    @property
    def state_attributes(self) -> Mapping[str, Any]:
        next_event = self._next_event.isoformat() if self._next_event else None
        return {**self._data, ATTR_NEXT_EVENT: next_event}

    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        # The state follows from the clock and the windows; nothing to carry over.
        self._evaluate()

    def async_update_config(self, config: Mapping[str, Any]) -> None:
        super().async_update_config(config)
        self._evaluate()

    async def async_will_remove_from_hub(self) -> None:
        self._unschedule()

    def _unschedule(self) -> None:
        if self._cancel_update is not None:
            self._cancel_update()
            self._cancel_update = None

    def _on_edge(self) -> None:
        self._cancel_update = None
        self._evaluate()
        self.async_write_state()

    def _evaluate(self) -> None:
        """Set state, data and next_event for now, and wake up at the next window edge."""
        zone = self.hub.site.tz
        now = self.hub.clock.time()
        today = datetime.fromtimestamp(now, zone).date()
        spans = _spans(self.config, today, zone)
        active = next((window for start, end, window in spans if start <= now < end), None)
        self._attr_is_on = active is not None
        self._data = dict(active.data) if active else {}
        change = _next_change(spans, now, _at(today, (_LAST_DAY + 1) * DAY_SECONDS, zone))
        self._next_event = None if change is None else datetime.fromtimestamp(change, zone)
        self._unschedule()
        edges = [edge for start, end, _ in spans for edge in (start, end) if edge > now]
        if edges:
            self._cancel_update = self.hub.async_call_at(
                min(edges), self._on_edge, f"schedule {self.entity_id}"
            )


def _next_change(spans: list[Span], now: float, horizon: float) -> float | None:
    """When the state next flips: windows that touch or overlap count as one stretch."""
    stretches: list[list[float]] = []
    for start, end, _ in spans:
        if stretches and start <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], end)
        else:
            stretches.append([start, end])
    for start, end in stretches:
        if start <= now < end:
            return end if end < horizon else None
        if start > now:
            return start
    return None


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create one entity per configured schedule."""
    await async_setup_helpers(hub, DOMAIN, config, Schedule, CONFIG_SCHEMA)
    return True
