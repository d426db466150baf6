"""Unit consumption drift with the day it started (the deck: a vertical mill's electricity
unit consumption returned to 23.5 kWh/t after process parameters were fixed, ¥115k over 15
days).

    service: energy.analyze_unit_drift
    data: {energy: sensor.mill_kwh, output: sensor.mill_output_t, start: 2026-01-01,
           end: 2026-02-01, quota: 23.5, threshold_pct: 5, price: 0.5}

Any energy meter and output counter (no `unit_consumption:` indicator needed): their daily
changes (recorder statistics, calendar days in the site's zone; the configured indicators of
unit_consumption.py cut production days at shift edges instead) give kWh per unit of output
per day. Drift runs are found by unit_consumption.find_drift: at least `days` days in a row
above the reference by more than `threshold_pct` %, the reference being `quota` or else the
mean of the last `baseline_days` normal days. Each run gives its first and last day, the day
it ended (the first normal day after it, or None while it goes on), the excess energy (used
less reference x output) and its cost at `price` or the meter's tariff.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.analyses.common import (
    HOUR,
    AnalysisError,
    async_daily,
    localize,
    moment,
    prices_for,
    rounded,
    span,
)
from plantpulse.integrations.energy.config import EnergyConfig
from plantpulse.integrations.energy.unit_consumption import (
    AGAINST_BASELINE,
    AGAINST_QUOTA,
    DriftRule,
    find_drift,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

SERVICE: Final = "analyze_unit_drift"
SCHEMA: Final = vol.Schema({
    vol.Required("energy"): cv.entity_id,
    vol.Required("output"): cv.entity_id,
    vol.Required("start"): moment,
    vol.Required("end"): moment,
    vol.Optional("quota"): vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False)),
    vol.Optional("threshold_pct", default=5.0): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional("days", default=3): vol.All(vol.Coerce(int), vol.Range(min=1)),
    vol.Optional("baseline_days", default=14): vol.All(vol.Coerce(int), vol.Range(min=3)),
    vol.Optional("price"): vol.All(vol.Coerce(float), vol.Range(min=0)),
})
DESCRIPTION: Final = ("Unit consumption (energy per unit of output) per day, drift runs above "
                      "a quota or the recent baseline with the day each started and ended, "
                      "the excess energy and its cost.")


async def async_analyze(hub: Hub, config: EnergyConfig, data: Mapping[str, Any]) -> dict[str, Any]:
    """The service: daily figures, then the drift runs."""
    period = span(data, hub.site.tz)
    energy_id, output_id = data["energy"], data["output"]
    prices = prices_for(hub, config, data, [energy_id])
    daily = await async_daily(hub, [energy_id, output_id], period)
    days = sorted(set(daily[energy_id]) & set(daily[output_id]))
    energy = [daily[energy_id][day] for day in days]
    output = [daily[output_id][day] for day in days]
    quota = data.get("quota")
    against = AGAINST_QUOTA if quota is not None else AGAINST_BASELINE
    rule = DriftRule(data["threshold_pct"], data["days"], against, data["baseline_days"],
                     "warning")
    if not any(made > 0 for made in output):
        raise AnalysisError(f"{output_id} recorded no output between {period.start.date()} "
                            f"and {period.end.date()}")
    runs, ongoing = find_drift(days, energy, output, rule, quota)
    hours = np.arange(24) * HOUR + HOUR / 2
    result_runs = []
    for run in runs:
        run_days = [day for day in days if run.start <= day <= run.end]
        times = np.array([localize(day, hub.site.tz).timestamp() + hours
                          for day in run_days]).ravel()
        price = prices.weighted(times, np.ones(len(times)))
        entry = run.as_dict(price)
        entry["ended"] = None if run is ongoing else _next_day(days, run.end)
        entry["price"] = rounded(price, 4)
        result_runs.append(entry)
    return {
        "energy": energy_id, "output": output_id, "start": period.start.date().isoformat(),
        "end": period.end.date().isoformat(), "quota": quota,
        "against": rule.against, "threshold_pct": rule.threshold_pct,
        "price_from": prices.source, "currency": hub.site.currency,
        "daily": [{"date": day.isoformat(), "energy": rounded(used, 3),
                   "output": rounded(made, 3),
                   "unit_consumption": rounded(used / made, 4) if made > 0 else None}
                  for day, used, made in zip(days, energy, output, strict=True)],
        "runs": result_runs,
        "drifting": ongoing is not None,
    }


def _next_day(days: list[date], last: date) -> str | None:
    later = [day for day in days if day > last]
    return later[0].isoformat() if later else None
