"""Time-of-use tariffs: day schedules, seasons, holiday calendars and dated price versions.

A tariff has versions, each in force from its `valid_from` date (site time) until the next
one: grid companies publish new price tables every month. A version names its day
schedules (`days`: a list of `from`/`to`/`period` spans that must cover 00:00–24:00 once,
without gaps or overlaps) and says which one each month uses (`seasons`, optionally another
one for weekends), with prices per period (per version, overridable per season). A holiday
calendar maps dates to the day schedule they use instead (a Sunday worked as a Monday, the
National Day holiday on the weekend schedule).

    tariffs:
      ningxia_10kv:
        holidays: {2022-10-01: weekend}
        versions:
          - valid_from: 2022-01-01
            prices: {sharp: 0.98, peak: 0.82, flat: 0.55, valley: 0.28}
            days:
              workday:
                - {from: "00:00", to: "08:00", period: valley}
                - {from: "08:00", to: "18:00", period: flat}
                - {from: "18:00", to: "20:00", period: sharp}
                - {from: "20:00", to: "00:00", period: peak}
              weekend:
                - {from: "00:00", to: "24:00", period: valley}
            seasons:
              - {months: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], day: workday,
                 weekend: weekend}

A version with one schedule for every day may give `schedule:` (a list of spans) instead
of `days` and `seasons`. Times are 'HH:MM' (quote them: YAML reads an unquoted 10:00 as
the number 600, which is taken as minutes for that reason); `to` may be 24:00, and a span
whose `to` is before its `from` runs over midnight.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import PlantPulseError
from plantpulse.integrations.energy.const import PERIOD_INDEX, Period

DAY_MINUTES: Final = 24 * 60

CONF_VERSIONS: Final = "versions"
CONF_VALID_FROM: Final = "valid_from"
CONF_PRICES: Final = "prices"
CONF_DAYS: Final = "days"
CONF_SEASONS: Final = "seasons"
CONF_SCHEDULE: Final = "schedule"
CONF_MONTHS: Final = "months"
CONF_DAY: Final = "day"
CONF_WEEKEND: Final = "weekend"
CONF_HOLIDAYS: Final = "holidays"
CONF_FROM: Final = "from"
CONF_TO: Final = "to"
CONF_PERIOD: Final = "period"

DEFAULT_DAY: Final = "every_day"


class TariffError(PlantPulseError):
    """A tariff cannot answer for a date (no version in force yet)."""


def clock_time(value: Any) -> int:
    """'HH:MM' (00:00 to 24:00) as minutes after midnight.

    A whole number of 60 or more is what YAML makes of an unquoted 10:00 (600): taken as
    minutes. Anything else is refused with how to write it.
    """
    if isinstance(value, int) and not isinstance(value, bool) and 60 <= value <= DAY_MINUTES:
        return value
    text = str(value).strip()
    hours, colon, minutes = text.partition(":")
    if (colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2
            and int(minutes) < 60 and int(hours) * 60 + int(minutes) <= DAY_MINUTES):
        return int(hours) * 60 + int(minutes)
    raise vol.Invalid(f"expected a time of day as 'HH:MM' from 00:00 to 24:00, got {value!r}")


def format_minutes(minutes: int) -> str:
    """Minutes after midnight as 'HH:MM'."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def a_date(value: Any) -> date:
    """A date, as YAML gives it or as 'YYYY-MM-DD'."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise vol.Invalid(f"expected a date as YYYY-MM-DD, got {value!r}") from None


_SPAN_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_FROM): clock_time,
    vol.Required(CONF_TO): clock_time,
    vol.Required(CONF_PERIOD): vol.Coerce(Period),
})

_PRICES_SCHEMA: Final = vol.Schema({
    vol.Coerce(Period): vol.All(vol.Coerce(float), vol.Range(min=0)),
})


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """One day's periods: `starts[i]` (minutes after midnight) begins `periods[i]`."""

    name: str
    starts: tuple[int, ...]
    periods: tuple[Period, ...]

    def period_at(self, minute: float) -> Period:
        """The period in force `minute` minutes after midnight."""
        return self.periods[bisect.bisect_right(self.starts, minute) - 1]

    def spans(self) -> list[tuple[int, int, Period]]:
        """(start, end, period) in minutes, adjacent spans of one period merged."""
        bounds = [*self.starts, DAY_MINUTES]
        return [(bounds[index], bounds[index + 1], period)
                for index, period in enumerate(self.periods)]


def day_schedule(name: str) -> Any:
    """Validator of a day's span list: the spans must cover 00:00–24:00 exactly once."""

    day = "the schedule" if name == DEFAULT_DAY else f"day '{name}'"

    def validate(value: Any) -> DaySchedule:
        spans = vol.Schema([_SPAN_SCHEMA])(cv.ensure_list(value))
        if not spans:
            raise vol.Invalid(f"{day} has no spans: give from/to/period spans "
                              "covering 00:00–24:00")
        pieces: list[tuple[int, int, Period, str]] = []
        for span in spans:
            start, end, period = span[CONF_FROM], span[CONF_TO], span[CONF_PERIOD]
            label = f"'{period}' ({format_minutes(start)}–{format_minutes(end)})"
            if start == end:
                raise vol.Invalid(f"{day}: the span {label} is empty")
            if end > start:
                pieces.append((start, end, period, label))
            else:  # runs over midnight
                pieces.append((start, DAY_MINUTES, period, label))
                if end:
                    pieces.append((0, end, period, label))
        pieces.sort()
        problems = []
        reached, reached_by = 0, ""
        for start, end, _period, label in pieces:
            if start > reached:
                problems.append(f"gap {format_minutes(reached)}–{format_minutes(start)} "
                                "is in no period")
            elif start < reached:
                problems.append(f"overlap {format_minutes(start)}–"
                                f"{format_minutes(min(end, reached))} is in both {reached_by} "
                                f"and {label}")
            if end > reached:
                reached, reached_by = end, label
        if reached < DAY_MINUTES:
            problems.append(f"gap {format_minutes(reached)}–24:00 is in no period")
        if problems:
            raise vol.Invalid(f"{day} must cover 00:00–24:00 exactly once: "
                              + "; ".join(problems))
        starts: list[int] = []
        periods: list[Period] = []
        for start, _end, period, _label in pieces:
            if not periods or periods[-1] != period:
                starts.append(start)
                periods.append(period)
        return DaySchedule(name, tuple(starts), tuple(periods))

    return validate


def _days(value: Any) -> dict[str, DaySchedule]:
    if not isinstance(value, Mapping) or not value:
        raise vol.Invalid("expected a mapping of day names to span lists")
    result = {}
    for key, spans in value.items():
        name = cv.slug(key)
        try:
            result[name] = day_schedule(name)(spans)
        except vol.Invalid as err:
            raise vol.Invalid(err.msg, path=[key, *err.path]) from None
    return result


_SEASON_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_MONTHS): vol.All(cv.ensure_list, [vol.All(vol.Coerce(int),
                                                                vol.Range(min=1, max=12))]),
    vol.Required(CONF_DAY): cv.slug,
    vol.Optional(CONF_WEEKEND): cv.slug,
    vol.Optional(CONF_PRICES, default={}): _PRICES_SCHEMA,
})


@dataclass(frozen=True, slots=True)
class Season:
    """Months that use one day schedule (another on weekends), with their prices."""

    months: frozenset[int]
    day: str
    weekend: str | None
    prices: Mapping[Period, float]


@dataclass(frozen=True, slots=True)
class TariffVersion:
    """A tariff as in force from `valid_from`."""

    valid_from: date
    days: Mapping[str, DaySchedule]
    seasons: tuple[Season, ...]

    def plan(self, day: date, holiday: str | None) -> tuple[DaySchedule, Mapping[Period, float]]:
        """The day schedule and prices of a date (`holiday`: the schedule it uses instead)."""
        season = next(season for season in self.seasons if day.month in season.months)
        if holiday is not None:
            name = holiday
        elif season.weekend is not None and day.weekday() >= 5:
            name = season.weekend
        else:
            name = season.day
        return self.days[name], season.prices


def _version(value: Any) -> TariffVersion:
    schema = vol.Schema({
        vol.Required(CONF_VALID_FROM): a_date,
        vol.Optional(CONF_PRICES, default={}): _PRICES_SCHEMA,
        vol.Exclusive(CONF_SCHEDULE, "days"): day_schedule(DEFAULT_DAY),
        vol.Exclusive(CONF_DAYS, "days"): _days,
        vol.Optional(CONF_SEASONS): [_SEASON_SCHEMA],
    })
    block = schema(value)
    if CONF_SCHEDULE in block:
        if CONF_SEASONS in block:
            raise vol.Invalid("give either 'schedule' (every day alike) or 'days' with "
                              "'seasons'", path=[CONF_SEASONS])
        days = {DEFAULT_DAY: block[CONF_SCHEDULE]}
        seasons_raw = [{CONF_MONTHS: list(range(1, 13)), CONF_DAY: DEFAULT_DAY,
                        CONF_PRICES: {}}]
    elif CONF_DAYS in block:
        days = block[CONF_DAYS]
        if CONF_SEASONS not in block:
            if len(days) != 1:
                raise vol.Invalid("with several days, 'seasons' must say which months use "
                                  "which day", path=[CONF_DAYS])
            seasons_raw = [{CONF_MONTHS: list(range(1, 13)), CONF_DAY: next(iter(days)),
                            CONF_PRICES: {}}]
        else:
            seasons_raw = block[CONF_SEASONS]
    else:
        raise vol.Invalid("a tariff version needs 'schedule' (every day alike) or 'days'")
    seasons = []
    month_owner: dict[int, int] = {}
    for index, raw in enumerate(seasons_raw):
        where = [CONF_SEASONS, index]
        for month in raw[CONF_MONTHS]:
            if month in month_owner:
                raise vol.Invalid(f"month {month} is in two seasons (#{month_owner[month] + 1} "
                                  f"and #{index + 1})", path=[*where, CONF_MONTHS])
            month_owner[month] = index
        for key in (CONF_DAY, CONF_WEEKEND):
            if key in raw and raw[key] not in days:
                raise vol.Invalid(f"day '{raw[key]}' is not defined under 'days' (defined: "
                                  f"{', '.join(days)})", path=[*where, key])
        prices = {**block[CONF_PRICES], **raw[CONF_PRICES]}
        used = {period for key in (CONF_DAY, CONF_WEEKEND) if key in raw
                for period in days[raw[key]].periods}
        missing = sorted(used.difference(prices), key=PERIOD_INDEX.__getitem__)
        if missing:
            raise vol.Invalid(f"no price for {', '.join(missing)} (used by the days of this "
                              "season): add them under 'prices'", path=where)
        seasons.append(Season(frozenset(raw[CONF_MONTHS]), raw[CONF_DAY], raw.get(CONF_WEEKEND),
                              prices))
    uncovered = sorted(set(range(1, 13)).difference(month_owner))
    if uncovered:
        raise vol.Invalid(f"months {uncovered} are in no season", path=[CONF_SEASONS])
    return TariffVersion(block[CONF_VALID_FROM], days, tuple(seasons))


@dataclass(frozen=True, slots=True)
class Segments:
    """Consecutive spans of constant period and price, as arrays: `starts[i]`..`ends[i]`
    (POSIX seconds) is period index `periods[i]` (see PERIODS) at `prices[i]` per unit."""

    starts: np.ndarray
    ends: np.ndarray
    periods: np.ndarray
    prices: np.ndarray


@dataclass(frozen=True, slots=True)
class Tariff:
    """A named time-of-use tariff with its dated versions and holiday calendar."""

    name: str
    versions: tuple[TariffVersion, ...]
    holidays: Mapping[date, str]

    def version_on(self, day: date) -> TariffVersion:
        """The version in force on `day`; TariffError before the first one."""
        index = bisect.bisect_right([version.valid_from for version in self.versions], day) - 1
        if index < 0:
            raise TariffError(f"tariff '{self.name}' has no version in force on {day} (the "
                              f"first is valid from {self.versions[0].valid_from})")
        return self.versions[index]

    def plan(self, day: date) -> tuple[DaySchedule, Mapping[Period, float]]:
        """The day schedule and prices of a local date."""
        return self.version_on(day).plan(day, self.holidays.get(day))

    def at(self, moment: datetime, zone: tzinfo) -> tuple[Period, float, datetime]:
        """The period and price at `moment`, and when the next change (of either) is due."""
        local = moment.astimezone(zone)
        day = local.date()
        schedule, prices = self.plan(day)
        minute = local.hour * 60 + local.minute + local.second / 60 + local.microsecond / 6e7
        period = schedule.period_at(minute)
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        for start in schedule.starts:
            if start > minute:
                change = midnight + timedelta(minutes=start)
                break
        else:
            following = day + timedelta(days=1)
            change = datetime(following.year, following.month, following.day, tzinfo=zone)
        return period, prices[period], change

    def segments(self, first: date, end: date, zone: tzinfo) -> Segments:
        """The spans from local midnight of `first` to local midnight of `end`, split at each
        period change and at each midnight (so days can be told apart)."""
        starts: list[float] = []
        ends: list[float] = []
        periods: list[int] = []
        prices: list[float] = []
        day = first
        while day < end:
            schedule, day_prices = self.plan(day)
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
            for start, stop, period in schedule.spans():
                starts.append((midnight + timedelta(minutes=start)).timestamp())
                if stop == DAY_MINUTES:
                    following = day + timedelta(days=1)
                    ends.append(datetime(following.year, following.month, following.day,
                                         tzinfo=zone).timestamp())
                else:
                    ends.append((midnight + timedelta(minutes=stop)).timestamp())
                periods.append(PERIOD_INDEX[period])
                prices.append(day_prices[period])
            day += timedelta(days=1)
        return Segments(np.array(starts), np.array(ends), np.array(periods, dtype=np.int64),
                        np.array(prices))


def tariff_schema(name: str) -> Any:
    """Validator of one tariff block (see the module docstring)."""

    def validate(value: Any) -> Tariff:
        block = vol.Schema({
            vol.Required(CONF_VERSIONS): vol.All(cv.ensure_list, vol.Length(min=1)),
            vol.Optional(CONF_HOLIDAYS, default={}): vol.Any(None, dict),
        })(value)
        versions = []
        for index, raw in enumerate(block[CONF_VERSIONS]):
            try:
                versions.append(_version(raw))
            except vol.Invalid as err:
                raise vol.Invalid(err.msg, path=[CONF_VERSIONS, index, *err.path]) from None
        versions.sort(key=lambda version: version.valid_from)
        for earlier, later in pairwise(versions):
            if earlier.valid_from == later.valid_from:
                raise vol.Invalid(f"two versions are valid from {later.valid_from}",
                                  path=[CONF_VERSIONS])
        holidays: dict[date, str] = {}
        for key, day_name in (block[CONF_HOLIDAYS] or {}).items():
            try:
                day = a_date(key)
                holidays[day] = cv.slug(day_name)
            except vol.Invalid as err:
                raise vol.Invalid(err.msg, path=[CONF_HOLIDAYS, key]) from None
            in_force = [version for version in versions if version.valid_from <= day]
            if in_force and holidays[day] not in in_force[-1].days:
                raise vol.Invalid(f"holiday {day} uses day '{holidays[day]}', which the "
                                  f"version valid from {in_force[-1].valid_from} does not "
                                  f"define (it has {', '.join(in_force[-1].days)})",
                                  path=[CONF_HOLIDAYS, key])
        return Tariff(name, tuple(versions), holidays)

    return validate


def tariffs_schema(value: Any) -> dict[str, Tariff]:
    """Validator of the `tariffs:` mapping of names to tariffs."""
    if not isinstance(value, Mapping):
        raise vol.Invalid("expected a mapping of tariff names to tariffs")
    result = {}
    for key, block in value.items():
        name = cv.slug(key)
        try:
            result[name] = tariff_schema(name)(block)
        except vol.Invalid as err:
            raise vol.Invalid(f"tariff '{name}': {err.msg}", path=[key, *err.path]) from None
    return result

