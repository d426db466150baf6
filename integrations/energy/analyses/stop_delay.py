"""Linked-equipment stop delay: how long a follower (an induced-draft fan) keeps running after
its leader (the process it serves) stops (the deck: cutting the delay to under a minute saved
250 kWh/day, ¥48.8k/year).

    service: energy.analyze_stop_delay
    data: {leader: sensor.kiln_kw, follower: sensor.id_fan_kw, start: 2026-03-01,
           end: 2026-03-08, allowed_delay: 60, price: 0.5348, threshold: 300}

Data: the recorded states (raw history, kept `purge_keep_days`), not statistics: a stop delay
is minutes long, 5-minute means blur it and hourly ones hide it, while each state keeps the
time it was measured. A numeric state means running above `leader_above` / `follower_above`
kW (default 1); on/off states (on, running, true, 1 / off, stopped, false, 0) are read as
such; unknown and unavailable keep the state before. At each stop of the leader the delay
is the time until the follower stops (or the leader restarts, or the range ends). Waste is
the follower's energy beyond `allowed_delay` seconds (default 60, the deck's target): its
power integrated from its own numeric states, or `follower_kw` for an on/off follower.
Per day over the range, per year x `days_per_year` (default 365), at `price` or the
follower's tariff at the stop. `threshold` (seconds) makes it a check: the alarm is raised
while any stop in the range ran on longer than that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.analyses.common import (
    HOUR,
    AnalysisError,
    Prices,
    Span,
    alarm_key,
    async_check,
    moment,
    prices_for,
    recorder_of,
    rounded,
    span,
)
from plantpulse.integrations.energy.config import EnergyConfig

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

SERVICE: Final = "analyze_stop_delay"
_POSITIVE = vol.All(vol.Coerce(float), vol.Range(min=0))
SCHEMA: Final = vol.Schema({
    vol.Required("leader"): cv.entity_id,
    vol.Required("follower"): cv.entity_id,
    vol.Required("start"): moment,
    vol.Required("end"): moment,
    vol.Optional("allowed_delay", default=60.0): _POSITIVE,
    vol.Optional("leader_above", default=1.0): _POSITIVE,
    vol.Optional("follower_above", default=1.0): _POSITIVE,
    vol.Optional("follower_kw"): _POSITIVE,
    vol.Optional("price"): _POSITIVE,
    vol.Optional("days_per_year", default=365): vol.All(vol.Coerce(float),
                                                        vol.Range(min=1, max=366)),
    vol.Optional("threshold"): _POSITIVE,
})
DESCRIPTION: Final = ("How long a follower (fan) runs on after its leader (process) stops: "
                      "each stop's delay, wasted kWh per day and per year and its cost; raises "
                      "an alarm when a delay exceeds threshold (seconds).")
RUNNING: Final = frozenset({"on", "running", "true", "1", "open"})
STOPPED: Final = frozenset({"off", "stopped", "false", "0", "closed"})
MAX_LISTED_STOPS: Final = 100


class Track:
    """An entity's states as steps: from `times[i]` it runs (`running[i]`) drawing `kw[i]`
    (NaN for on/off states)."""

    def __init__(self, entity_id: str, rows: Sequence[Mapping[str, Any]], above: float) -> None:
        times, running, power = [], [], []
        state: bool | None = None
        for row in rows:
            text = str(row.get("s")).strip().lower()
            try:
                value = float(text)
            except ValueError:
                value = float("nan")
                known = True if text in RUNNING else False if text in STOPPED else None
            else:
                known = value > above
            if known is None:
                continue
            if known != state or not np.isnan(value):
                times.append(float(row["lu"]))
                running.append(known)
                power.append(value)
            state = known
        if not times:
            raise AnalysisError(f"{entity_id} has no recorded running/stopped states in the "
                                "range: it needs a power reading in kW or on/off states")
        self.entity_id = entity_id
        self.times = np.array(times)
        self.running = np.array(running)
        self.kw = np.array(power)

    def index_at(self, moment_s: float) -> int:
        """The step in effect at `moment_s` (-1 before the first)."""
        return int(np.searchsorted(self.times, moment_s, side="right")) - 1

    def next_change(self, moment_s: float, to: bool) -> float | None:
        """When it next becomes running (`to` True) or stopped after `moment_s`."""
        later = np.flatnonzero((self.times > moment_s) & (self.running == to))
        return float(self.times[later[0]]) if len(later) else None

    def energy(self, begin: float, end: float, rated_kw: float | None) -> float:
        """kWh drawn from `begin` to `end`: its numeric power held between states, else
        `rated_kw` while running."""
        if end <= begin:
            return 0.0
        edges = np.append(self.times, np.inf)
        overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], begin), 0, None)
        power = np.where(np.isnan(self.kw), (rated_kw or 0.0) * self.running, self.kw)
        return float(np.sum(overlap * power) / HOUR)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def find_delays(leader: Track, follower: Track, period: Span, prices: Prices,
                options: Mapping[str, Any]) -> dict[str, Any]:
    """Each stop of the leader with the follower's delay and waste (blocking: executor)."""
    numeric = not np.isnan(follower.kw[follower.running]).any()
    rated = options.get("follower_kw")
    if not numeric and rated is None:
        raise AnalysisError(f"{follower.entity_id} reports on/off, not kW: give "
                            "'follower_kw' (its power while running) to count the waste")
    end_s, allowed = period.end.timestamp(), options["allowed_delay"]
    stops = np.flatnonzero(~leader.running[1:] & leader.running[:-1]) + 1
    events = []
    for index in stops:
        stopped = float(leader.times[index])
        at = follower.index_at(stopped)
        if at < 0 or not follower.running[at]:
            events.append((stopped, stopped, 0.0))
            continue
        candidates = [moment_s for moment_s in (follower.next_change(stopped, False),
                                                leader.next_change(stopped, True), end_s)
                      if moment_s is not None]
        until = min(candidates)
        events.append((stopped, until, follower.energy(stopped + allowed, until, rated)))
    delays = np.array([until - stopped for stopped, until, _waste in events])
    wastes = np.array([waste for _stopped, _until, waste in events])
    times = np.array([stopped for stopped, _until, _waste in events])
    per_day = float(wastes.sum()) / period.days
    price = prices.weighted(times, wastes) if len(times) else 0.0
    days_per_year = options["days_per_year"]
    threshold = options.get("threshold")
    return {
        "stops": len(events),
        "median_delay_s": rounded(np.median(delays), 1) if len(delays) else None,
        "max_delay_s": rounded(delays.max(), 1) if len(delays) else None,
        "stops_over_allowed": int((delays > allowed).sum()),
        "stops_over_threshold": (int((delays > threshold).sum()) if threshold is not None
                                 else None),
        "wasted_kwh": rounded(wastes.sum()),
        "wasted_kwh_per_day": rounded(per_day),
        "wasted_kwh_per_year": rounded(per_day * days_per_year),
        "price": rounded(price, 4),
        "cost_per_year": rounded(per_day * days_per_year * price),
        "events": [{"leader_stopped": _iso(stopped), "follower_stopped": _iso(until),
                    "delay_s": rounded(until - stopped, 1), "wasted_kwh": rounded(waste, 3)}
                   for stopped, until, waste in events[-MAX_LISTED_STOPS:]],
    }


async def async_analyze(hub: Hub, config: EnergyConfig, data: Mapping[str, Any]) -> dict[str, Any]:
    """The service: read both entities' history, find the delays, check the threshold."""
    period = span(data, hub.site.tz)
    leader_id, follower_id = data["leader"], data["follower"]
    if leader_id == follower_id:
        raise AnalysisError("'leader' and 'follower' must be two different entities")
    prices = prices_for(hub, config, data, [follower_id, leader_id])
    recorder = recorder_of(hub)
    await recorder.async_flush()
    history = await recorder.async_get_history([leader_id, follower_id], period.start,
                                               period.end, no_attributes=True, compact=True)
    for entity_id in (leader_id, follower_id):
        if not history.get(entity_id):
            raise AnalysisError(f"no recorded states of {entity_id} between "
                                f"{period.start.isoformat()} and {period.end.isoformat()} "
                                f"(raw states are kept for the recorder's purge_keep_days)")
    leader = Track(leader_id, history[leader_id], data["leader_above"])
    follower = Track(follower_id, history[follower_id], data["follower_above"])
    result: dict[str, Any] = {"leader": leader_id, "follower": follower_id,
                              "start": period.start.isoformat(), "end": period.end.isoformat(),
                              "days": rounded(period.days, 3),
                              "allowed_delay_s": data["allowed_delay"],
                              "price_from": prices.source, "currency": hub.site.currency}
    result.update(await hub.async_add_executor_job(find_delays, leader, follower, period,
                                                   prices, data))
    if "threshold" in data:
        over = result["stops_over_threshold"]
        result["alarm"] = await async_check(
            hub, alarm_key("stop_delay", leader_id, follower_id), over > 0,
            {"zh-CN": f"{leader_id} 停机后 {follower_id} 延时停机最长 "
                      f"{result['max_delay_s']:.0f} 秒（阈值 {data['threshold']:g} 秒，"
                      f"{over} 次），每天浪费 {result['wasted_kwh_per_day']:.0f} kWh",
             "en": f"{follower_id} ran on up to {result['max_delay_s']:.0f} s after "
                   f"{leader_id} stopped ({over} stops over {data['threshold']:g} s), "
                   f"{result['wasted_kwh_per_day']:.0f} kWh/day wasted"},
            follower_id, {"stops_over_threshold": over,
                          "wasted_kwh_per_day": result["wasted_kwh_per_day"]})
    return result
