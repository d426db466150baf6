"""Production days, shifts and team rotations (三班倒, 四班三倒), in the site's time zone.

    energy:
      shifts:
        day_start: "08:00"              # production day 2026-03-02 = 03-02 08:00 .. 03-03 08:00
        shifts:                          # in order, covering the 24 hours without gaps
          - {name: 早班, from: "08:00", to: "16:00"}
          - {name: 中班, from: "16:00", to: "24:00"}
          - {name: 夜班, from: "00:00", to: "08:00"}   # the last 8 hours of the production day
        rotation:                        # optional: which team works which shift
          anchor: 2026-03-01             # the production day the cycle starts on
          teams: [甲, 乙, 丙, 丁]         # 4 teams over 3 shifts: 四班三倒
          days_per_shift: 2              # each team: 2 days per shift, then 2 days off
          # or an explicit cycle, one row per production day, the team on each shift
          # (null: nobody): cycle: [[甲, 乙, 丙], [丁, 甲, 乙], ...]

`day_start` defaults to the first shift's start and must be the start of a shift (a shift
belongs to the production day it starts in). Without `shifts:` a production day is the
calendar day with one shift. With `teams` and `days_per_shift` the cycle is the usual one:
every team works `days_per_shift` days on each shift in order, then rests for
`days_per_shift` days per team more than there are shifts (none for 三班倒 with 3 teams);
on any day each shift has exactly one team.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.tariff import a_date, clock_time, format_minutes

CONF_DAY_START: Final = "day_start"
CONF_SHIFTS: Final = "shifts"
CONF_ROTATION: Final = "rotation"
CONF_NAME: Final = "name"
CONF_FROM: Final = "from"
CONF_TO: Final = "to"
CONF_ANCHOR: Final = "anchor"
CONF_TEAMS: Final = "teams"
CONF_DAYS_PER_SHIFT: Final = "days_per_shift"
CONF_CYCLE: Final = "cycle"
DAY_MINUTES: Final = 24 * 60


@dataclass(frozen=True, slots=True)
class Shift:
    """A shift: `offset`..`offset + length` minutes after the production day's start."""

    name: str
    index: int
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class Rotation:
    """Which team works each shift: row `(day - anchor) mod len(cycle)` of `cycle`."""

    anchor: date
    cycle: tuple[tuple[str | None, ...], ...]

    @property
    def teams(self) -> list[str]:
        """Every team named, in order of first appearance."""
        return list(dict.fromkeys(team for row in self.cycle for team in row if team))

    def team(self, day: date, shift: int) -> str | None:
        """The team on `shift` of production day `day`."""
        return self.cycle[(day - self.anchor).days % len(self.cycle)][shift]


@dataclass(frozen=True, slots=True)
class Slot:
    """One shift of one production day, with its team and its local start and end."""

    day: date
    shift: Shift
    team: str | None
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class ShiftCalendar:
    """Production days starting `day_start` minutes after local midnight, split in shifts."""

    day_start: int
    shifts: tuple[Shift, ...]
    rotation: Rotation | None = None

    def day_begins(self, day: date, zone: tzinfo) -> datetime:
        """When production day `day` begins (local)."""
        return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(
            minutes=self.day_start)

    def production_day(self, at: datetime, zone: tzinfo) -> date:
        """The production day `at` falls in."""
        local = at.astimezone(zone)
        if local.hour * 60 + local.minute < self.day_start:
            return local.date() - timedelta(days=1)
        return local.date()

    def slots(self, first: date, last: date, zone: tzinfo) -> list[Slot]:
        """Every shift of the production days `first` to `last` (inclusive), in order."""
        return list(self._iter_slots(first, last, zone))

    def _iter_slots(self, first: date, last: date, zone: tzinfo) -> Iterator[Slot]:
        day = first
        while day <= last:
            begins = self.day_begins(day, zone)
            for shift in self.shifts:
                start = begins + timedelta(minutes=shift.offset)
                end = begins + timedelta(minutes=shift.offset + shift.length)
                team = self.rotation.team(day, shift.index) if self.rotation else None
                yield Slot(day, shift, team, start, end)
            day += timedelta(days=1)

    def slot_at(self, at: datetime, zone: tzinfo) -> Slot:
        """The shift (and team) on at `at`."""
        day = self.production_day(at, zone)
        moment = at.timestamp()
        for slot in self.slots(day, day, zone):
            if slot.start.timestamp() <= moment < slot.end.timestamp():
                return slot
        return self.slots(day, day, zone)[-1]  # a DST day a little longer than 24 h

    @property
    def teams(self) -> list[str]:
        """The teams of the rotation (none without one)."""
        return self.rotation.teams if self.rotation else []


DEFAULT_CALENDAR: Final = ShiftCalendar(0, (Shift("day", 0, 0, DAY_MINUTES),))


def standard_cycle(teams: Sequence[str], shifts: int,
                   days_per_shift: int) -> tuple[tuple[str | None, ...], ...]:
    """The usual rotation: team i works shift s in block b = day // days_per_shift when
    (b - i) mod len(teams) == s, and rests otherwise, so each shift has one team a day."""
    count = len(teams)
    rows = []
    for day in range(count * days_per_shift):
        block = day // days_per_shift
        rows.append(tuple(teams[(block - shift) % count] for shift in range(shifts)))
    return tuple(rows)


_SHIFT: Final = vol.Schema({
    vol.Required(CONF_NAME): cv.string,
    vol.Required(CONF_FROM): clock_time,
    vol.Required(CONF_TO): clock_time,
})
_ROTATION: Final = vol.Schema({
    vol.Required(CONF_ANCHOR): a_date,
    vol.Exclusive(CONF_TEAMS, "how"): vol.All(cv.ensure_list, [cv.string], vol.Length(min=1)),
    vol.Exclusive(CONF_CYCLE, "how"): vol.All(cv.ensure_list, vol.Length(min=1)),
    vol.Optional(CONF_DAYS_PER_SHIFT, default=1): vol.All(vol.Coerce(int), vol.Range(min=1)),
})
_CALENDAR: Final = vol.Schema({
    vol.Optional(CONF_DAY_START): clock_time,
    vol.Required(CONF_SHIFTS): vol.All(cv.ensure_list, [_SHIFT], vol.Length(min=1)),
    vol.Optional(CONF_ROTATION): _ROTATION,
})


def calendar_schema(value: Any) -> ShiftCalendar:
    """The `shifts:` block as a ShiftCalendar; vol.Invalid naming the offending times."""
    block = _CALENDAR(value)
    raw = block[CONF_SHIFTS]
    names = [item[CONF_NAME] for item in raw]
    if len(set(names)) != len(names):
        raise vol.Invalid("shift names must differ", path=[CONF_SHIFTS])
    total = 0
    for index, item in enumerate(raw):
        start, stop = item[CONF_FROM] % DAY_MINUTES, item[CONF_TO] % DAY_MINUTES
        length = (stop - start) % DAY_MINUTES or DAY_MINUTES
        total += length
        following = raw[(index + 1) % len(raw)]
        if stop != following[CONF_FROM] % DAY_MINUTES:
            raise vol.Invalid(
                f"shift '{item[CONF_NAME]}' ends at {format_minutes(item[CONF_TO])} but the "
                f"next one ('{following[CONF_NAME]}') starts at "
                f"{format_minutes(following[CONF_FROM])}: shifts must follow each other "
                "without gaps or overlaps", path=[CONF_SHIFTS, index])
    if total != DAY_MINUTES:
        raise vol.Invalid(f"the shifts cover {total / 60:g} hours; they must cover 24",
                          path=[CONF_SHIFTS])
    starts = [item[CONF_FROM] % DAY_MINUTES for item in raw]
    day_start = block.get(CONF_DAY_START, raw[0][CONF_FROM]) % DAY_MINUTES
    if day_start not in starts:
        raise vol.Invalid(f"day_start {format_minutes(day_start)} is not the start of a shift "
                          f"({', '.join(format_minutes(start) for start in starts)})",
                          path=[CONF_DAY_START])
    first = starts.index(day_start)
    shifts = []
    for index in range(len(raw)):
        item = raw[(first + index) % len(raw)]
        offset = (item[CONF_FROM] - day_start) % DAY_MINUTES
        length = (item[CONF_TO] - item[CONF_FROM]) % DAY_MINUTES or DAY_MINUTES
        shifts.append(Shift(item[CONF_NAME], index, offset, length))
    rotation = None
    if CONF_ROTATION in block:
        try:
            rotation = _rotation(block[CONF_ROTATION], len(shifts))
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[CONF_ROTATION, *err.path]) from None
    return ShiftCalendar(day_start, tuple(shifts), rotation)


def shifts_option(value: Any, nodes: Any) -> ShiftCalendar:
    """The `shifts:` key of the energy block (empty: the calendar day, one shift)."""
    return DEFAULT_CALENDAR if value is None else calendar_schema(value)


def _rotation(block: dict[str, Any], shifts: int) -> Rotation:
    if CONF_TEAMS in block:
        teams = block[CONF_TEAMS]
        if len(teams) < shifts:
            raise vol.Invalid(f"{len(teams)} team(s) cannot cover {shifts} shifts",
                              path=[CONF_TEAMS])
        cycle = standard_cycle(teams, shifts, block[CONF_DAYS_PER_SHIFT])
        return Rotation(block[CONF_ANCHOR], cycle)
    if CONF_CYCLE not in block:
        raise vol.Invalid("a rotation needs 'teams' (with days_per_shift) or 'cycle'")
    rows = []
    for index, row in enumerate(block[CONF_CYCLE]):
        if not isinstance(row, list) or len(row) != shifts:
            raise vol.Invalid(f"each cycle row lists the team on each of the {shifts} shifts",
                              path=[CONF_CYCLE, index])
        rows.append(tuple(None if team is None else cv.string(team) for team in row))
    return Rotation(block[CONF_ANCHOR], tuple(rows))
