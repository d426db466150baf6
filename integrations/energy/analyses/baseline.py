"""Energy baseline against production (ISO 50006 style): a linear model of daily energy on
daily output fitted over a baseline period, its fit (R², CV(RMSE)), and after a change (new
process settings, a retrofit) the savings day by day against what the model expects, with
their cumulative sum (CUSUM) in kWh and money.

    service: energy.analyze_baseline
    data: {energy: sensor.mill_kwh, output: sensor.mill_output_t, start: 2026-01-01,
           change: 2026-02-01, end: 2026-03-01, price: 0.5}

Energy and output are daily changes of two meters/counters (recorder statistics, days in
the site's zone): the energy meter and a production output counter (state_class
total_increasing, as the production integration's outputs are). Days without output are
left out of the fit (a plant at rest is another regime). expected = intercept + slope x
output; saving = expected - actual (positive when less was used); CUSUM adds the savings
up from the change day on. The fit needs at least `min_days` baseline days with output.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import voluptuous as vol
from scipy import stats

from plantpulse.core.config import validation as cv
from plantpulse.integrations.energy.analyses.common import (
    HOUR,
    AnalysisError,
    Span,
    async_daily,
    localize,
    moment,
    prices_for,
    rounded,
)
from plantpulse.integrations.energy.config import EnergyConfig

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

SERVICE: Final = "analyze_baseline"
SCHEMA: Final = vol.Schema({
    vol.Required("energy"): cv.entity_id,
    vol.Required("output"): cv.entity_id,
    vol.Required("start"): moment,
    vol.Required("change"): moment,
    vol.Required("end"): moment,
    vol.Optional("price"): vol.All(vol.Coerce(float), vol.Range(min=0)),
    vol.Optional("min_days", default=10): vol.All(vol.Coerce(int), vol.Range(min=3)),
})
DESCRIPTION: Final = ("Energy baseline vs production: daily energy regressed on output over "
                      "a baseline period (slope, intercept, R²), then the savings after a "
                      "change day by day with their CUSUM, in kWh and money.")


def fit_and_track(days: list[date], energy: np.ndarray, output: np.ndarray, change: date,
                  price: float, min_days: int) -> dict[str, Any]:
    """The baseline model and the savings after `change` (blocking: runs in the executor)."""
    producing = output > 0
    before = np.array([day < change for day in days]) & producing
    after = np.array([day >= change for day in days]) & producing
    if before.sum() < min_days:
        raise AnalysisError(f"the baseline period has {int(before.sum())} days with output; "
                            f"the fit needs at least {min_days}")
    if not after.any():
        raise AnalysisError("no day with output after the change day to measure savings on")
    if np.ptp(output[before]) == 0:
        raise AnalysisError("output was the same every baseline day: energy cannot be "
                            "regressed on it")
    fit = stats.linregress(output[before], energy[before])
    predicted = fit.intercept + fit.slope * output[before]
    residuals = energy[before] - predicted
    dof = max(int(before.sum()) - 2, 1)
    cv_rmse = float(np.sqrt(np.sum(residuals ** 2) / dof) / np.mean(energy[before]) * 100)
    expected = fit.intercept + fit.slope * output[after]
    savings = expected - energy[after]
    cusum = np.cumsum(savings)
    after_days = [day for day, flag in zip(days, after, strict=True) if flag]
    return {
        "model": {"slope": rounded(fit.slope, 4), "intercept": rounded(fit.intercept, 2),
                  "r2": rounded(fit.rvalue ** 2, 4), "cv_rmse_pct": rounded(cv_rmse, 2),
                  "slope_stderr": rounded(fit.stderr, 4),
                  "p_value": float(fit.pvalue), "days": int(before.sum())},
        "reporting": [{"date": day.isoformat(), "output": rounded(made, 3),
                       "energy": rounded(used, 2), "expected": rounded(due, 2),
                       "saving": rounded(saved, 2), "cusum": rounded(total, 2)}
                      for day, made, used, due, saved, total in zip(
                          after_days, output[after], energy[after], expected, savings, cusum,
                          strict=True)],
        "savings_kwh": rounded(cusum[-1]),
        "savings_pct": rounded(cusum[-1] / expected.sum() * 100, 2),
        "savings_cost": rounded(cusum[-1] * price),
        "savings_kwh_per_day": rounded(cusum[-1] / len(savings)),
    }


async def async_analyze(hub: Hub, config: EnergyConfig, data: Mapping[str, Any]) -> dict[str, Any]:
    """The service: daily energy and output, the fit and the savings in the executor."""
    zone = hub.site.tz
    start, change, end = (localize(data[key], zone) for key in ("start", "change", "end"))
    if not start < change < end:
        raise AnalysisError("'start', 'change' and 'end' must come in that order")
    energy_id, output_id = data["energy"], data["output"]
    prices = prices_for(hub, config, data, [energy_id])
    daily = await async_daily(hub, [energy_id, output_id], Span(start, end))
    days = sorted(set(daily[energy_id]) & set(daily[output_id]))
    energy = np.array([daily[energy_id][day] for day in days])
    output = np.array([daily[output_id][day] for day in days])
    hours = np.arange(24) * HOUR + HOUR / 2
    after_times = np.array([localize(day, zone).timestamp() + hours for day in days
                            if day >= change.date()]).ravel()
    price = prices.weighted(after_times, np.ones(len(after_times)))
    result: dict[str, Any] = {"energy": energy_id, "output": output_id,
                              "baseline": {"start": start.date().isoformat(),
                                           "end": change.date().isoformat()},
                              "change": change.date().isoformat(), "end": end.date().isoformat(),
                              "price": rounded(price, 4), "price_from": prices.source,
                              "currency": hub.site.currency}
    result.update(await hub.async_add_executor_job(
        fit_and_track, days, energy, output, change.date(), price, data["min_days"]))
    return result
