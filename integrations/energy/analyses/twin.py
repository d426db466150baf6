"""Twin equipment comparison: two identical machines doing the same duty should draw the
same power; a lasting gap is wear or a fault (the deck: circulator #1 ran 20-30 kW above #3,
675 kWh/day more; after repair 110 kWh/day, a saving of 565 kWh/day).

    service: energy.analyze_twin
    data: {first: sensor.pump1_kw, second: sensor.pump3_kw, start: 2026-01-01,
           end: 2026-02-01, split_at: 2026-01-16, price: 0.55, threshold: 15}

From the mean kW of each statistics period both machines have (a power sensor's mean or an
energy meter's change): the mean gap (first minus second) and its 10th-90th percentile
range, the extra kWh per day, and the cost of the gap per year at `price` or at the first
machine's tariff (weighted by when the extra energy was used). With `split_at` (a repair
date) the periods before and after are compared and the saving is given. `threshold` (kW)
makes it a check: the alarm is raised while the mean gap (after `split_at` when given) is
above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.analyses.common import (
    DAY,
    HOUR,
    RESOLUTIONS,
    AnalysisError,
    Load,
    Prices,
    Span,
    alarm_key,
    async_check,
    async_load,
    localize,
    moment,
    prices_for,
    rounded,
    span,
)
from plantpulse.integrations.energy.config import EnergyConfig

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

SERVICE: Final = "analyze_twin"
SCHEMA: Final = vol.Schema({
    vol.Required("first"): cv.entity_id,
    vol.Required("second"): cv.entity_id,
    vol.Required("start"): moment,
    vol.Required("end"): moment,
    vol.Optional("split_at"): moment,
    vol.Optional("resolution", default="hour"): vol.In(list(RESOLUTIONS)),
    vol.Optional("price"): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional("days_per_year", default=365): vol.All(vol.Coerce(float),
                                                        vol.Range(min=1, max=366)),
    vol.Optional("threshold"): vol.All(vol.Coerce(float), vol.Range(min=0)),
})
DESCRIPTION: Final = ("Two identical machines compared: mean load gap (kW), extra kWh per "
                      "day and the gap's cost per year; before/after a repair with split_at; "
                      "raises an alarm above threshold (kW).")


def gap_figures(first: Load, second: Load, prices: Prices, days_per_year: float,
                lower: float, upper: float) -> dict[str, Any]:
    """The gap between two machines over the periods both have in [lower, upper)."""
    common, in_first, in_second = np.intersect1d(first.starts, second.starts,
                                                 return_indices=True)
    inside = (common >= lower) & (common < upper)
    if not inside.any():
        raise AnalysisError("the two machines have no statistics period in common between "
                            f"{_iso(lower)} and {_iso(upper)}")
    times = common[inside]
    gap = first.kw[in_first[inside]] - second.kw[in_second[inside]]
    extra_kwh = gap * first.seconds / HOUR
    days = len(times) * first.seconds / DAY
    per_day = float(extra_kwh.sum()) / days
    price = prices.weighted(times, np.abs(extra_kwh))
    return {
        "periods": len(times),
        "days": rounded(days, 3),
        "mean_first_kw": rounded(first.kw[in_first[inside]].mean()),
        "mean_second_kw": rounded(second.kw[in_second[inside]].mean()),
        "mean_gap_kw": rounded(gap.mean(), 3),
        "gap_p10_kw": rounded(np.percentile(gap, 10)),
        "gap_p90_kw": rounded(np.percentile(gap, 90)),
        "extra_kwh_per_day": rounded(per_day),
        "extra_kwh_per_year": rounded(per_day * days_per_year),
        "price": rounded(price, 4),
        "cost_per_year": rounded(per_day * days_per_year * price),
    }


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def compare(first: Load, second: Load, prices: Prices, days_per_year: float, period: Span,
            split: float | None) -> dict[str, Any]:
    """The whole comparison (blocking: runs in the executor)."""
    start, end = period.start.timestamp(), period.end.timestamp()
    if split is None:
        return {"gap": gap_figures(first, second, prices, days_per_year, start, end)}
    before = gap_figures(first, second, prices, days_per_year, start, split)
    after = gap_figures(first, second, prices, days_per_year, split, end)
    saving = before["extra_kwh_per_day"] - after["extra_kwh_per_day"]
    price = before["price"] if prices.price is None else prices.price
    return {"before": before, "after": after,
            "saving_kwh_per_day": rounded(saving),
            "saving_kwh_per_year": rounded(saving * days_per_year),
            "saving_cost_per_year": rounded(saving * days_per_year * price)}


async def async_analyze(hub: Hub, config: EnergyConfig, data: Mapping[str, Any]) -> dict[str, Any]:
    """The service: load both machines, compare in the executor, check the threshold."""
    period = span(data, hub.site.tz)
    split = None
    if "split_at" in data:
        split_at = localize(data["split_at"], hub.site.tz)
        if not period.start < split_at < period.end:
            raise AnalysisError("'split_at' must fall between 'start' and 'end'")
        split = split_at.timestamp()
    first_id, second_id = data["first"], data["second"]
    if first_id == second_id:
        raise AnalysisError("'first' and 'second' must be two different machines")
    prices = prices_for(hub, config, data, [first_id, second_id])
    first = await async_load(hub, first_id, period, data["resolution"])
    second = await async_load(hub, second_id, period, data["resolution"])
    result: dict[str, Any] = {"first": first_id, "second": second_id,
                              "start": period.start.isoformat(), "end": period.end.isoformat(),
                              "resolution": data["resolution"], "price_from": prices.source,
                              "currency": hub.site.currency,
                              "days_per_year": data["days_per_year"]}
    result.update(await hub.async_add_executor_job(
        compare, first, second, prices, data["days_per_year"], period, split))
    if "threshold" in data:
        latest = result["after"] if split is not None else result["gap"]
        gap = latest["mean_gap_kw"]
        result["alarm"] = await async_check(
            hub, alarm_key("twin", first_id, second_id), abs(gap) > data["threshold"],
            {"zh-CN": f"{first_id} 与 {second_id} 平均负荷差 {gap:.1f} kW，"
                      f"超过 {data['threshold']:g} kW，每天多耗 "
                      f"{latest['extra_kwh_per_day']:.0f} kWh",
             "en": f"{first_id} draws {gap:.1f} kW more than its twin {second_id} on "
                   f"average (threshold {data['threshold']:g} kW), "
                   f"{latest['extra_kwh_per_day']:.0f} kWh/day"},
            first_id, {"mean_gap_kw": gap, "extra_kwh_per_day": latest["extra_kwh_per_day"]})
    return result
