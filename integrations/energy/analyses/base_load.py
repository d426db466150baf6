"""Load profile features: a recurring base load in the hours without production (the deck: a
line held a steady 42 kW every day 17:00-23:00 after the shift, auxiliaries left on; 42 kW
x 6 h x 300 days = 75,600 kWh/year, about ¥50.7k).

    service: energy.analyze_base_load
    data: {entity_id: sensor.anodizing_kwh, start: 2026-01-01, end: 2026-02-01,
           days_per_year: 300, price: 0.67, threshold: 20}

Method: the meter's mean kW per statistics period (hourly by default, or 5-minute) is laid
out as days x time-of-day slots in the site's zone, and the median of each slot over the days
is the typical profile. Slots whose typical load reaches `production_kw` (default: half the
profile's highest slot) are production; the other slots form windows of consecutive slots at
a similar level (a step of more than `step_kw` or 20 % starts a new window, across midnight
too). Windows whose level is at least `min_kw` above `expected_kw` (what should be drawn
then, default 0) are reported with the days they recurred on (the window's mean within 20 %
of its level), the waste per day and per year (`days_per_year`, default 365 x the share of
days it recurred) and its cost at `price` or the meter's tariff in those hours. `threshold`
(kW) makes it a check: the alarm is raised while a window's level is above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
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
    alarm_key,
    async_check,
    async_load,
    moment,
    prices_for,
    rounded,
    span,
)
from plantpulse.integrations.energy.config import EnergyConfig

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

SERVICE: Final = "analyze_base_load"
_KW = vol.All(vol.Coerce(float), vol.Range(min=0))
SCHEMA: Final = vol.Schema({
    vol.Required("entity_id"): cv.entity_id,
    vol.Required("start"): moment,
    vol.Required("end"): moment,
    vol.Optional("resolution", default="hour"): vol.In(list(RESOLUTIONS)),
    vol.Optional("production_kw"): _KW,
    vol.Optional("min_kw", default=5.0): _KW,
    vol.Optional("step_kw", default=5.0): _KW,
    vol.Optional("expected_kw", default=0.0): _KW,
    vol.Optional("price"): _KW,
    vol.Optional("days_per_year"): vol.All(vol.Coerce(float), vol.Range(min=1, max=366)),
    vol.Optional("threshold"): _KW,
})
DESCRIPTION: Final = ("Recurring base load in the hours without production: the windows, "
                      "their level (kW), the days they recur and the waste per year in kWh "
                      "and money; raises an alarm above threshold (kW).")
RECUR_TOLERANCE: Final = 0.2
MIN_DAYS: Final = 3


def day_matrix(load: Load, zone: tzinfo) -> tuple[list[date], np.ndarray]:
    """The load as days x slots of the local day (NaN where a period is missing)."""
    slots = round(DAY / load.seconds)
    rows: dict[date, np.ndarray] = {}
    for start, value in zip(load.starts, load.kw, strict=True):
        local = datetime.fromtimestamp(float(start), zone)
        slot = int((local.hour * HOUR + local.minute * 60) // load.seconds)
        row = rows.setdefault(local.date(), np.full(slots, np.nan))
        row[slot] = value
    days = sorted(rows)
    return days, np.array([rows[day] for day in days])


def _windows(profile: np.ndarray, production: np.ndarray, step_kw: float) -> list[list[int]]:
    """Runs of consecutive non-production slots at a similar level, across midnight."""
    count = len(profile)
    begin = int(np.flatnonzero(production)[0]) if production.any() else 0
    runs: list[list[int]] = []
    current: list[int] = []
    for offset in range(count):
        slot = (begin + offset) % count
        if production[slot]:
            current = []
            continue
        if current:
            before = profile[current[-1]]
            if abs(profile[slot] - before) > max(step_kw, 0.2 * max(profile[slot], before)):
                current = []
        if not current:
            runs.append(current)
        current.append(slot)
    if production.any() or len(runs) < 2:
        return runs
    # Without production the scan began at midnight: join a run that wraps around it.
    first, last = runs[0], runs[-1]
    if first[0] == 0 and last[-1] == count - 1 and \
            abs(profile[0] - profile[-1]) <= max(step_kw, 0.2 * max(profile[0], profile[-1])):
        runs[0] = last + first
        runs.pop()
    return runs


def _clock(slot: int, seconds: float) -> str:
    minutes = int(slot * seconds // 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def find_base_loads(load: Load, zone: tzinfo, prices: Prices, options: Mapping[str, Any]
                    ) -> dict[str, Any]:
    """The profile and its base-load windows (blocking: runs in the executor)."""
    days, matrix = day_matrix(load, zone)
    if len(days) < MIN_DAYS:
        raise AnalysisError(f"a recurring load needs at least {MIN_DAYS} days of data, got "
                            f"{len(days)}")
    profile = np.nan_to_num(np.nanmedian(matrix, axis=0))
    production_kw = options.get("production_kw", 0.5 * float(profile.max()))
    production = profile >= production_kw if production_kw > 0 else np.zeros(len(profile), bool)
    hours_per_slot = load.seconds / HOUR
    midnights = np.array([datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()
                          for day in days])
    windows = []
    for run in _windows(profile, production, options["step_kw"]):
        values = matrix[:, run]
        level = float(np.nanmedian(values))
        waste_kw = level - options["expected_kw"]
        if waste_kw < options["min_kw"]:
            continue
        day_means = np.nanmean(values, axis=1)
        seen = ~np.isnan(day_means)
        recurring = seen & (np.abs(day_means - level) <= RECUR_TOLERANCE * level)
        share = float(recurring.sum() / max(seen.sum(), 1))
        per_day = waste_kw * len(run) * hours_per_slot
        days_per_year = options.get("days_per_year", 365 * share)
        times = (midnights[recurring, None] + np.array(run)[None, :] * load.seconds).ravel()
        price = prices.weighted(times, np.ones(len(times)))
        windows.append({
            "from": _clock(run[0], load.seconds),
            "to": _clock(run[-1] + 1, load.seconds),
            "hours": rounded(len(run) * hours_per_slot, 3),
            "level_kw": rounded(level, 3),
            "waste_kw": rounded(waste_kw, 3),
            "days_recurring": int(recurring.sum()),
            "days_with_data": int(seen.sum()),
            "kwh_per_day": rounded(per_day),
            "days_per_year": rounded(days_per_year, 1),
            "kwh_per_year": rounded(per_day * days_per_year),
            "price": rounded(price, 4),
            "cost_per_year": rounded(per_day * days_per_year * price),
        })
    windows.sort(key=lambda window: -window["kwh_per_year"])
    return {"days": len(days), "production_kw": rounded(production_kw),
            "production_slots": [_clock(int(slot), load.seconds)
                                 for slot in np.flatnonzero(production)],
            "profile_kw": [rounded(value) for value in profile],
            "windows": windows}


async def async_analyze(hub: Hub, config: EnergyConfig, data: Mapping[str, Any]) -> dict[str, Any]:
    """The service: load the meter, find the windows in the executor, check the threshold."""
    period = span(data, hub.site.tz)
    entity_id = data["entity_id"]
    prices = prices_for(hub, config, data, [entity_id])
    load = await async_load(hub, entity_id, period, data["resolution"])
    result: dict[str, Any] = {"entity_id": entity_id, "start": period.start.isoformat(),
                              "end": period.end.isoformat(), "resolution": data["resolution"],
                              "price_from": prices.source, "currency": hub.site.currency}
    result.update(await hub.async_add_executor_job(find_base_loads, load, hub.site.tz,
                                                   prices, data))
    if "threshold" in data:
        over = [window for window in result["windows"]
                if window["level_kw"] > data["threshold"]]
        text = ", ".join(f"{window['from']}-{window['to']} {window['level_kw']:.1f} kW"
                         for window in over)
        result["alarm"] = await async_check(
            hub, alarm_key("base_load", entity_id), bool(over),
            {"zh-CN": f"{entity_id} 非生产时段持续负荷：{text}（阈值 {data['threshold']:g} kW）",
             "en": f"{entity_id} holds a base load outside production: {text} "
                   f"(threshold {data['threshold']:g} kW)"},
            entity_id, {"windows": [f"{window['from']}-{window['to']}" for window in over]})
    return result
