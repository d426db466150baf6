"""What the energy analyses share: time ranges, loading statistics as kW or per-day
amounts, prices from an argument or the meter's tariff, and alarms for scheduled checks."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.recorder import get_recorder
from plantpulse.integrations.energy.config import EnergyConfig
from plantpulse.integrations.energy.tariff import Tariff, TariffError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

HOUR: Final = 3600.0
DAY: Final = 86400.0
# Statistics periods an analysis may read kW from, and their length in seconds.
RESOLUTIONS: Final = {"5minute": 300.0, "hour": HOUR}
ALARM_SEVERITY: Final = "warning"
_SLUG: Final = re.compile(r"[^a-z0-9]+")


class AnalysisError(PlantPulseError):
    """An analysis cannot run as asked; the message says why and what to give instead."""


def moment(value: Any) -> date | datetime:
    """A date (`2026-02-01`, meaning local midnight) or a datetime (naive: site time)."""
    if isinstance(value, datetime | date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
    except ValueError:
        raise vol.Invalid(f"expected a date (2026-02-01) or a date and time "
                          f"(2026-02-01 17:00), got {value!r}") from None


def localize(value: date | datetime, zone: tzinfo) -> datetime:
    """`value` as an aware datetime: a date is its local midnight, a naive time is local."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=zone)
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


@dataclass(frozen=True, slots=True)
class Span:
    """The time range an analysis covers, aware, start before end."""

    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        """Its length in days."""
        return (self.end - self.start).total_seconds() / DAY


def span(data: Mapping[str, Any], zone: tzinfo, start_key: str = "start",
         end_key: str = "end") -> Span:
    """The range named by `start_key`/`end_key` of a service call; AnalysisError if empty."""
    start, end = localize(data[start_key], zone), localize(data[end_key], zone)
    if end <= start:
        raise AnalysisError(f"'{end_key}' ({end.isoformat()}) must come after "
                            f"'{start_key}' ({start.isoformat()})")
    return Span(start, end)


def recorder_of(hub: Hub) -> Any:
    """The recorder; AnalysisError when it is not configured."""
    recorder = get_recorder(hub)
    if recorder is None:
        raise AnalysisError("analyses read the recorder's history and statistics: add "
                            "'recorder:' to the configuration")
    return recorder


@dataclass(frozen=True, slots=True)
class Load:
    """Mean power in kW over consecutive periods starting at `starts` (POSIX seconds)."""

    starts: np.ndarray
    kw: np.ndarray
    seconds: float


async def async_load(hub: Hub, entity_id: str, period: Span, resolution: str) -> Load:
    """The mean kW of `entity_id` per statistics period: a power sensor's `mean`, or an
    energy meter's `change` (kWh) divided by the period's hours."""
    rows = (await recorder_of(hub).async_get_statistics(
        [entity_id], resolution, period.start, period.end, {"mean", "change"},
        epoch_ms=True)).get(entity_id, [])
    seconds = RESOLUTIONS[resolution]
    starts, values = [], []
    for row in rows:
        if row["start"] / 1000.0 < period.start.timestamp():
            continue
        if row.get("mean") is not None:
            value = row["mean"]
        elif row.get("change") is not None:
            value = row["change"] * HOUR / seconds
        else:
            continue
        starts.append(row["start"] / 1000.0)
        values.append(value)
    if not starts:
        raise AnalysisError(f"no {resolution} statistics of {entity_id} between "
                            f"{period.start.isoformat()} and {period.end.isoformat()}: is it "
                            "recorded (a power sensor with state_class measurement or an "
                            "energy meter), or imported?")
    return Load(np.array(starts), np.array(values, dtype=float), seconds)


async def async_daily(hub: Hub, entity_ids: Sequence[str],
                      period: Span) -> dict[str, dict[date, float]]:
    """Each meter's consumption (or a production counter's output) per local day."""
    rows = await recorder_of(hub).async_get_statistics(
        list(entity_ids), "day", period.start, period.end, {"change"})
    result: dict[str, dict[date, float]] = {}
    for entity_id in entity_ids:
        days = {datetime.fromisoformat(row["start"]).date(): float(row["change"])
                for row in rows.get(entity_id, []) if row.get("change") is not None
                and datetime.fromisoformat(row["start"]) >= period.start}
        if not days:
            raise AnalysisError(f"no daily statistics of {entity_id} between "
                                f"{period.start.date()} and {period.end.date()}: it must be "
                                "a meter or counter (state_class total_increasing), recorded "
                                "or imported")
        result[entity_id] = days
    return result


class Prices:
    """The price of energy at given times: one fixed `price`, or the tariff of the meter's
    node in the energy tree."""

    def __init__(self, price: float | None, tariff: Tariff | None, zone: tzinfo) -> None:
        self.price = price
        self.tariff = tariff
        self.zone = zone

    @property
    def source(self) -> str:
        """Where prices come from: 'price' or 'tariff:<name>'."""
        return "price" if self.price is not None else f"tariff:{self.tariff.name}"  # type: ignore[union-attr]

    def at(self, times: np.ndarray) -> np.ndarray:
        """The price at each POSIX time (blocking: runs with the analysis)."""
        if self.price is not None or not len(times):
            return np.full(len(times), self.price or 0.0)
        assert self.tariff is not None
        first = datetime.fromtimestamp(float(times.min()), self.zone).date()
        last = datetime.fromtimestamp(float(times.max()), self.zone).date()
        try:
            segments = self.tariff.segments(first, last + timedelta(days=1), self.zone)
        except TariffError as err:
            raise AnalysisError(str(err)) from None
        index = np.clip(np.searchsorted(segments.starts, times, side="right") - 1, 0,
                        len(segments.starts) - 1)
        return segments.prices[index]

    def weighted(self, times: np.ndarray, amounts: np.ndarray) -> float:
        """The mean price of `amounts` used at `times` (the plain mean if they are all 0)."""
        prices = self.at(times)
        total = float(np.sum(amounts))
        if total:
            return float(np.sum(prices * amounts) / total)
        return float(prices.mean()) if len(prices) else 0.0


def prices_for(hub: Hub, config: EnergyConfig, data: Mapping[str, Any],
               entity_ids: Sequence[str]) -> Prices:
    """`price` from the call, else the tariff of the first of `entity_ids` in the tree."""
    if data.get("price") is not None:
        return Prices(float(data["price"]), None, hub.site.tz)
    for entity_id in entity_ids:
        node = config.node_of_entity(entity_id)
        if node is not None and node.tariff is not None:
            return Prices(None, config.tariffs[node.tariff], hub.site.tz)
    raise AnalysisError(f"give 'price' (per kWh), or put {' or '.join(entity_ids)} in the "
                        "energy meter tree with a tariff, to put a cost on the result")


def alarm_key(analysis: str, *entity_ids: str) -> str:
    """The alarm key of a scheduled check on these entities."""
    return "energy_" + analysis + "_" + "_".join(
        _SLUG.sub("_", entity_id.lower()).strip("_") for entity_id in entity_ids)


async def async_check(hub: Hub, key: str, exceeded: bool, message: Mapping[str, str],
                      source: str, data: Mapping[str, Any]) -> str | None:
    """Raise the alarm `key` when `exceeded`, else clear it; what was done ('raised',
    'cleared', 'unchanged') or None without the alarm integration."""
    manager = hub.data.get("alarm")
    if manager is None:
        _LOGGER.warning("Check %s found %s but the alarm integration is not set up", key,
                        "a problem" if exceeded else "nothing")
        return None
    if exceeded:
        await manager.async_raise(key, ALARM_SEVERITY, dict(message), source=source,
                                  data=dict(data))
        return "raised"
    return "cleared" if await manager.async_clear(key) is not None else "unchanged"


def rounded(value: float, places: int = 2) -> float:
    """`value` rounded for a response (no -0.0)."""
    return round(float(value), places) + 0.0
