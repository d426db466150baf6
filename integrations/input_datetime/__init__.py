"""input_datetime: a date, a time of day, or both, set by people (shift start, a delivery).

    input_datetime:
      shift_start:
        name: 早班开始
        has_time: true
        initial: "08:00:00"      # quote times: YAML reads 17:00 unquoted as a number
      delivery:
        has_date: true
        has_time: true

Times are the site's local wall time (`plantpulse: time_zone:`). The state is
`YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD` or `HH:MM:SS`; attributes, as in Home Assistant (the
automation `time` trigger reads them): `has_date`, `has_time`, `year`, `month`, `day` (with a
date), `hour`, `minute`, `second` (with a time) and `timestamp` (POSIX seconds of the local
moment with a date, seconds since midnight for a time alone). Service
`input_datetime.set_datetime` with `date` and/or `time`, or `datetime`, or `timestamp`;
`reload`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.entity import Entity, EntityService
from plantpulse.core.states import State
from plantpulse.integrations.input_boolean.collection import (
    BASE_SCHEMA,
    CONF_INITIAL,
    HelperEntity,
    async_setup_helpers,
    helpers_schema,
    initial_or_restored,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from plantpulse.core.hub import Hub

DOMAIN: Final = "input_datetime"
CONF_HAS_DATE: Final = "has_date"
CONF_HAS_TIME: Final = "has_time"
ATTR_DATE: Final = "date"
ATTR_TIME: Final = "time"
ATTR_DATETIME: Final = "datetime"
ATTR_TIMESTAMP: Final = "timestamp"
FORMAT_DATE: Final = "%Y-%m-%d"
FORMAT_TIME: Final = "%H:%M:%S"
FORMAT_DATETIME: Final = f"{FORMAT_DATE} {FORMAT_TIME}"
# Stands in for the date of a helper that holds only a time of day.
_NO_DATE: Final = dt.date(1970, 1, 1)


def _no_number(value: Any, what: str) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise vol.Invalid(
            f"expected {what} in quotes, such as '17:00:00' (YAML reads 17:00:00 unquoted as "
            "a number)"
        )


def valid_date(value: Any) -> dt.date:
    """A date: `YYYY-MM-DD` (or a date YAML already read)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(cv.string(value).strip())
    except ValueError:
        raise vol.Invalid(f"expected a date such as '2026-03-02', got {value!r}") from None


def valid_time(value: Any) -> dt.time:
    """A time of day: `HH:MM:SS` or `HH:MM`."""
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None, microsecond=0)
    _no_number(value, "a time")
    try:
        parsed = dt.time.fromisoformat(cv.string(value).strip())
    except ValueError:
        raise vol.Invalid(f"expected a time such as '08:00:00', got {value!r}") from None
    return parsed.replace(tzinfo=None, microsecond=0)


def valid_datetime(value: Any) -> dt.datetime:
    """`YYYY-MM-DD HH:MM:SS`, local unless it carries an offset (then it is converted)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    _no_number(value, "a date and time")
    text = cv.string(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise vol.Invalid(
            f"expected a date and time such as '2026-03-02 08:00:00', got {value!r}"
        ) from None


def _initial_matching(config: dict[str, Any]) -> dict[str, Any]:
    has_date, has_time = config[CONF_HAS_DATE], config[CONF_HAS_TIME]
    if not has_date and not has_time:
        raise vol.Invalid("set has_date, has_time or both to true")
    raw = config.get(CONF_INITIAL)
    if raw is None:
        return config
    try:
        if has_date and has_time:
            initial = valid_datetime(raw)
        elif has_date:
            initial = dt.datetime.combine(valid_date(raw), dt.time())
        else:
            initial = dt.datetime.combine(_NO_DATE, valid_time(raw))
    except vol.Invalid as err:
        raise vol.Invalid(f"{err.msg} for 'initial'") from None
    return {**config, CONF_INITIAL: initial}


CONFIG_SCHEMA: Final = helpers_schema(vol.All(vol.Schema({
    **BASE_SCHEMA,
    vol.Optional(CONF_HAS_DATE, default=False): cv.boolean,
    vol.Optional(CONF_HAS_TIME, default=False): cv.boolean,
    vol.Optional(CONF_INITIAL): object,
}), _initial_matching))


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """Local wall time (naive) of a datetime; a naive one is already local."""
    if moment.tzinfo is None:
        return moment.replace(microsecond=0)
    return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)


class InputDatetime(HelperEntity, Entity):
    """A local date and/or time of day, set by people and automations."""

    DOMAIN = DOMAIN
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "set_datetime": EntityService(
            "async_set_datetime",
            {
                vol.Optional(ATTR_DATE): valid_date,
                vol.Optional(ATTR_TIME): valid_time,
                vol.Optional(ATTR_DATETIME): valid_datetime,
                vol.Optional(ATTR_TIMESTAMP): vol.All(vol.Coerce(float), vol.Range(min=0)),
            },
            "Set the date and/or time (parts not given stay), or a whole datetime or timestamp.",
        ),
    }

    def __init__(self, object_id: str, config: Mapping[str, Any]) -> None:
        super().__init__(object_id, config)
        self._value: dt.datetime | None = None

    @property
    def has_date(self) -> bool:
        """Whether the helper holds a date."""
        return bool(self.config[CONF_HAS_DATE])

    @property
    def has_time(self) -> bool:
        """Whether the helper holds a time of day."""
        return bool(self.config[CONF_HAS_TIME])

    @property
    def value(self) -> dt.datetime | None:
        """The local wall time held (naive; its date is meaningless without `has_date`)."""
        return self._value

    @property
    def state(self) -> str | None:
        if self._value is None:
            return None
        if self.has_date and self.has_time:
            return self._value.strftime(FORMAT_DATETIME)
        if self.has_date:
            return self._value.strftime(FORMAT_DATE)
        return self._value.strftime(FORMAT_TIME)

    @property
    def state_attributes(self) -> Mapping[str, Any]:
        attributes: dict[str, Any] = {CONF_HAS_DATE: self.has_date, CONF_HAS_TIME: self.has_time}
        value = self._value
        if value is None:
            return attributes
        if self.has_date:
            attributes.update(year=value.year, month=value.month, day=value.day)
        if self.has_time:
            attributes.update(hour=value.hour, minute=value.minute, second=value.second)
        if self.has_date:
            attributes[ATTR_TIMESTAMP] = value.replace(tzinfo=self.hub.site.tz).timestamp()
        else:
            attributes[ATTR_TIMESTAMP] = value.hour * 3600 + value.minute * 60 + value.second
        return attributes

    def _today(self) -> dt.date:
        return self.hub.clock.now().astimezone(self.hub.site.tz).date()

    def _default(self) -> dt.datetime:
        return dt.datetime.combine(self._today() if self.has_date else _NO_DATE, dt.time())

    def _parse_state(self, state: str) -> dt.datetime | None:
        """A saved state in any of the three formats, fitted to what this helper holds."""
        for pattern in (FORMAT_DATETIME, FORMAT_DATE, FORMAT_TIME):
            try:
                parsed = dt.datetime.strptime(state, pattern)
            except ValueError:
                continue
            saved_date = parsed.date() if pattern != FORMAT_TIME else self._today()
            saved_time = parsed.time() if pattern != FORMAT_DATE else dt.time()
            return self._combine(saved_date, saved_time)
        return None

    def _combine(self, day: dt.date, clock_time: dt.time) -> dt.datetime:
        return dt.datetime.combine(
            day if self.has_date else _NO_DATE, clock_time if self.has_time else dt.time()
        )

    def async_restore(self, last: State | None, extra: Mapping[str, Any] | None) -> None:
        start = _local(
            initial_or_restored(self.config, last, self._parse_state, self._default()),
            self.hub.site.tz,
        )
        self._value = self._combine(start.date(), start.time())

    def async_update_config(self, config: Mapping[str, Any]) -> None:
        super().async_update_config(config)
        if self._value is not None:
            self._value = self._combine(self._value.date(), self._value.time())

    async def async_set_datetime(
        self,
        date: dt.date | None = None,
        time: dt.time | None = None,
        datetime: dt.datetime | None = None,
        timestamp: float | None = None,
    ) -> None:
        """Set `date` and/or `time` (what is not given stays), or a `datetime`/`timestamp`."""
        given = [name for name, item in (
            (ATTR_DATE, date), (ATTR_TIME, time), (ATTR_DATETIME, datetime),
            (ATTR_TIMESTAMP, timestamp),
        ) if item is not None]
        if not given:
            raise vol.Invalid("give date and/or time, or datetime, or timestamp")
        if len(given) > 1 and set(given) != {ATTR_DATE, ATTR_TIME}:
            raise vol.Invalid(
                f"give date and/or time, or datetime, or timestamp, not {' and '.join(given)}"
            )
        if date is not None and not self.has_date:
            raise vol.Invalid(f"{self.entity_id} holds no date (has_date is false)")
        if time is not None and not self.has_time:
            raise vol.Invalid(f"{self.entity_id} holds no time (has_time is false)")
        if timestamp is not None:
            datetime = dt.datetime.fromtimestamp(timestamp, dt.UTC)
        if datetime is not None:
            local = _local(datetime, self.hub.site.tz)
            date, time = local.date(), local.time()
        current = self._value or self._default()
        self._value = self._combine(
            current.date() if date is None else date, current.time() if time is None else time
        )


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create one entity per configured date/time."""
    await async_setup_helpers(hub, DOMAIN, config, InputDatetime, CONFIG_SCHEMA)
    return True
