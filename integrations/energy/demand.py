"""15-minute demand (需量): live per billing account, and from the recorder's statistics.

A window is a fixed quarter hour (:00, :15, :30, :45); its demand is the energy used in it
times 4 (kW), or a power sensor's time-weighted average over it. Live, each account has
`sensor.<id>_demand`, the running demand of the window under way (the energy so far times 4,
so it rises to the window's demand at its end; attributes: the window's start, the demand
the window is heading for, the last closed window), and `sensor.<id>_max_demand`, the
highest closed window of the billing month with its time (restored after a restart).

A window closes at the first reading at or after its end (a reading's energy since the one
before is spread over the windows between them in proportion to time), or `reading_grace`
seconds after its end with what is known if no reading came. A power sensor's value holds
until the next one, and its windows close at their end.

History: the meter's (or power sensor's) 5-minute statistics give the windows exactly (3
rows per window); where they are gone (kept `keep_5minute_days`), the demand sensor's hourly
`max` statistics (kept for years) give each hour's highest window. Hourly meter statistics
alone cannot give 15-minute demand: the result then holds the highest hourly average (a
lower bound) and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from plantpulse.core.events import Event
from plantpulse.core.platforms.sensor import SensorDeviceClass, SensorEntity, StateClass
from plantpulse.core.restore_state import RestoreEntity
from plantpulse.core.tracking import async_track_state_change_event
from plantpulse.integrations.energy.billing_config import BillingAccount

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

WINDOW: Final = 900.0
WINDOWS_PER_HOUR: Final = 4
FIVE_MINUTE_ROWS: Final = 3
RESET_RATIO: Final = 0.9
RESOLUTION_15MIN: Final = "15min"
RESOLUTION_HOUR: Final = "hour"
HOURLY_NOTE: Final = ("only hourly statistics cover this span: 15-minute demand cannot be "
                      "known from them, so max_kw is the highest hourly average (a lower "
                      "bound of the 15-minute maximum)")


def window_start(timestamp: float) -> float:
    """The start of the quarter hour holding `timestamp` (POSIX seconds).

    Every time zone's offset is a whole number of quarter hours, so UTC quarters are local
    quarters too.
    """
    return timestamp - timestamp % WINDOW


def demand_entity_ids(account_id: str) -> tuple[str, str]:
    """The running and maximum demand sensors of an account."""
    return f"sensor.{account_id}_demand", f"sensor.{account_id}_max_demand"


@dataclass(frozen=True, slots=True)
class Peak:
    """The highest demand of a span: kW, when (the window's or hour's start), how known."""

    max_kw: float | None
    at: datetime | None
    resolution: str | None
    windows: int
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """As services answer it."""
        return {"max_kw": None if self.max_kw is None else round(self.max_kw, 3),
                "at": self.at.isoformat() if self.at else None,
                "resolution": self.resolution, "windows": self.windows, "note": self.note}


def windows_from_energy(rows: Iterable[Mapping[str, Any]]) -> dict[float, float]:
    """15-minute demand (kW) per window start from 5-minute meter rows (start in epoch ms,
    `change` in kWh); windows missing any of their 3 rows are left out."""
    energy: dict[float, float] = {}
    count: dict[float, int] = {}
    for row in rows:
        if row.get("change") is None:
            continue
        start = window_start(row["start"] / 1000.0)
        energy[start] = energy.get(start, 0.0) + row["change"]
        count[start] = count.get(start, 0) + 1
    return {start: total * WINDOWS_PER_HOUR for start, total in energy.items()
            if count[start] == FIVE_MINUTE_ROWS}


def windows_from_power(rows: Iterable[Mapping[str, Any]]) -> dict[float, float]:
    """15-minute demand (kW) per window start from 5-minute rows of a power sensor (`mean`
    in kW); windows missing any of their 3 rows are left out."""
    means: dict[float, list[float]] = {}
    for row in rows:
        if row.get("mean") is not None:
            means.setdefault(window_start(row["start"] / 1000.0), []).append(row["mean"])
    return {start: sum(values) / len(values) for start, values in means.items()
            if len(values) == FIVE_MINUTE_ROWS}


async def async_peak(recorder: Any, account: BillingAccount, start: datetime,
                     end: datetime) -> Peak:
    """The account's highest 15-minute demand from `start` to `end` (see the module doc)."""
    source = account.power_entity or account.entity_id
    running, _maximum = demand_entity_ids(account.account_id)
    types = {"mean"} if account.power_entity else {"change"}
    short = await recorder.async_get_statistics([source], "5minute", start, end, types,
                                                epoch_ms=True)
    rows = [row for row in short.get(source, ()) if row["start"] < end.timestamp() * 1000]
    windows = windows_from_power(rows) if account.power_entity else windows_from_energy(rows)
    best: tuple[float, float] | None = None
    if windows:
        moment = max(windows, key=windows.__getitem__)
        best = (windows[moment], moment)
    covered = {window_start(row["start"] / 1000.0) // 3600 for row in rows}
    hourly = await recorder.async_get_statistics([running], "hour", start, end, {"max"},
                                                 epoch_ms=True)
    for row in hourly.get(running, ()):
        hour = row["start"] / 1000.0
        if row.get("max") is None or hour // 3600 in covered:
            continue
        if best is None or row["max"] > best[0]:
            best = (row["max"], hour)
    if best is not None:
        return Peak(best[0], datetime.fromtimestamp(best[1], UTC), RESOLUTION_15MIN,
                    len(windows))
    meter = await recorder.async_get_statistics([account.entity_id], "hour", start, end,
                                                {"change"}, epoch_ms=True)
    hours = [(row["change"], row["start"] / 1000.0) for row in meter.get(account.entity_id, ())
             if row.get("change") is not None]
    if not hours:
        return Peak(None, None, None, 0, "no statistics of the meter in this span")
    kwh, hour = max(hours)
    return Peak(kwh, datetime.fromtimestamp(hour, UTC), RESOLUTION_HOUR, 0, HOURLY_NOTE)


class DemandTracker:
    """Follows an account's meter (or power sensor) and closes 15-minute windows live."""

    def __init__(self, hub: Hub, account: BillingAccount,
                 period_label: Callable[[float], str]) -> None:
        self.hub = hub
        self.account = account
        self.period_label = period_label
        self.power = account.power_entity is not None
        self.source = account.power_entity or account.entity_id
        self.grace = 0.0 if self.power else account.reading_grace
        self.window: float | None = None
        self.energy = 0.0
        self.last_window: tuple[float, float] | None = None
        self.max_kw: float | None = None
        self.max_at: float | None = None
        self.max_period: str | None = None
        self.running = RunningDemandSensor(self)
        self.maximum = MaxDemandSensor(self)
        self._previous: tuple[float, float] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._cancel_timer: Callable[[], None] | None = None

    def async_start(self) -> None:
        """Follow the source entity and the window edges."""
        self._unsubscribe = async_track_state_change_event(self.hub, self.source,
                                                           self._async_state_changed)
        self._schedule(window_start(self.hub.clock.time()) + WINDOW)

    def async_stop(self) -> None:
        """Stop following."""
        for cancel in (self._unsubscribe, self._cancel_timer):
            if cancel is not None:
                cancel()
        self._unsubscribe = self._cancel_timer = None

    def _schedule(self, edge: float) -> None:
        self._cancel_timer = self.hub.async_call_at(
            edge + self.grace, lambda: self._async_edge(edge),
            f"demand window {self.account.account_id}")

    def _async_edge(self, edge: float) -> None:
        if self.power and self._previous is not None and self._previous[0] < edge:
            moment, value = self._previous
            self._add(moment, edge, value * (edge - moment) / 3600)
            self._previous = (edge, value)
        if self.window is not None and self.window + WINDOW <= edge:
            self._close()
            self.window, self.energy = edge, 0.0
            self._write()
        self._schedule(edge + WINDOW)

    def _async_state_changed(self, event: Event) -> None:
        state = event.data.get("new_state")
        if state is None:
            return
        try:
            value = float(state.state)
        except ValueError:
            return
        moment = state.timestamp
        previous, self._previous = self._previous, (moment, value)
        if previous is None:
            self.window = self.window if self.window is not None else window_start(moment)
            return
        if moment <= previous[0]:
            self._previous = previous
            return
        if self.power:
            amount = previous[1] * (moment - previous[0]) / 3600
        else:
            amount = value - previous[1]
            if amount < 0:  # a reset counts from 0; a small dip is noise
                amount = value if value < previous[1] * RESET_RATIO else 0.0
        self._add(previous[0], moment, amount)
        if self.window is not None and moment >= self.window + WINDOW:
            self._close()
            self.window, self.energy = window_start(moment), 0.0
        self._write()

    def _add(self, begin: float, end: float, amount: float) -> None:
        """Spread `amount` kWh over the windows from `begin` to `end` by time."""
        span = end - begin
        moment = begin
        while moment < end:
            start = window_start(moment)
            stop = min(end, start + WINDOW)
            part = amount * (stop - moment) / span
            if self.window is None or start > self.window:
                if self.window is not None:
                    self._close()
                self.window, self.energy = start, 0.0
            if start == self.window:
                self.energy += part
            else:
                _LOGGER.debug("%s: %.3f kWh for a closed window dropped", self.source, part)
            moment = stop

    def _close(self) -> None:
        assert self.window is not None
        demand = self.energy * WINDOWS_PER_HOUR
        self.last_window = (self.window, demand)
        label = self.period_label(self.window)
        if label != self.max_period or self.max_kw is None or demand > self.max_kw:
            self.max_kw, self.max_at, self.max_period = demand, self.window, label
            self.maximum.async_write_state()

    def _write(self) -> None:
        if self.running.hub is not None:
            self.running.async_write_state()

    def restore(self, max_kw: float, at: float, period: str) -> None:
        """Carry the billing month's maximum over a restart."""
        self.max_kw, self.max_at, self.max_period = max_kw, at, period


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat()


class RunningDemandSensor(SensorEntity):
    """The demand of the quarter hour under way, so far (kW)."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_state_class = StateClass.MEASUREMENT
    _attr_native_unit_of_measurement = "kW"
    _attr_icon = "mdi:gauge"

    def __init__(self, tracker: DemandTracker) -> None:
        self._tracker = tracker
        account = tracker.account
        self._attr_unique_id = f"energy_billing_{account.account_id}_demand"
        self._attr_name = f"{account.account_id} demand"  # the entity id comes from it

    @property
    def native_value(self) -> float | None:
        tracker = self._tracker
        if tracker.window is None:
            return None
        return round(tracker.energy * WINDOWS_PER_HOUR, 3)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        tracker = self._tracker
        elapsed = (None if tracker.window is None
                   else min(WINDOW, max(0.0, self.hub.clock.time() - tracker.window)))
        last = tracker.last_window
        return {
            "account_name": tracker.account.name,
            "window_start": _iso(tracker.window),
            "projected_kw": (round(tracker.energy * 3600 / elapsed, 3) if elapsed else None),
            "last_window_start": _iso(last[0]) if last else None,
            "last_window_kw": round(last[1], 3) if last else None,
        }


class MaxDemandSensor(RestoreEntity, SensorEntity):
    """The billing month's highest 15-minute demand (kW) and when it was."""

    _attr_device_class = SensorDeviceClass.POWER
    _attr_native_unit_of_measurement = "kW"
    _attr_icon = "mdi:gauge-full"

    def __init__(self, tracker: DemandTracker) -> None:
        self._tracker = tracker
        account = tracker.account
        self._attr_unique_id = f"energy_billing_{account.account_id}_max_demand"
        self._attr_name = f"{account.account_id} max demand"

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        tracker = self._tracker
        if last is None or tracker.max_kw is not None:
            return
        period, at = last.attributes.get("billing_month"), last.attributes.get("at")
        try:
            value = float(last.state)
            moment = datetime.fromisoformat(at).timestamp() if at else None
        except (TypeError, ValueError):
            return
        if period and moment is not None and period == tracker.period_label(
                self.hub.clock.time()):
            tracker.restore(value, moment, period)

    @property
    def native_value(self) -> float | None:
        value = self._tracker.max_kw
        return None if value is None else round(value, 3)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        tracker = self._tracker
        return {"account_name": tracker.account.name, "at": _iso(tracker.max_at),
                "billing_month": tracker.max_period}
