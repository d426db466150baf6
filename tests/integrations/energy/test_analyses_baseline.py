"""energy.analyze_baseline: energy vs production regression and CUSUM of savings (ISO 50006).

The deck (PRODUCT.md E8) asks for the method without figures, so the data is the mill's
kind: May 2025 as baseline, daily output 2,400-4,800 t, energy = 12,000 kWh + 22 kWh/t x
output with noise (sd 800 kWh/day); from June 1 new settings use 20 kWh/t. The true saving
is 2 kWh/t x June's output; the fitted model recovers it within its error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import

SHANGHAI = ZoneInfo("Asia/Shanghai")
MILL, OUTPUT = "sensor.mill_kwh", "sensor.mill_output_t"
START = datetime(2025, 5, 1, tzinfo=SHANGHAI)
DAYS, CHANGE_DAY = 61, 31
RNG = np.random.default_rng(11)
TONNES = 3600 + 1200 * np.sin(np.arange(DAYS) * 0.7) * RNG.uniform(0.5, 1, DAYS)
SLOPES = np.where(np.arange(DAYS) < CHANGE_DAY, 22.0, 20.0)
KWH = 12_000 + SLOPES * TONNES + RNG.normal(0, 800, DAYS)


@pytest.fixture
async def mill(hub_factory: Callable[..., Awaitable[Hub]]) -> Hub:
    hub = await hub_factory("recorder:\nenergy:\n")
    recorder = get_recorder(hub)
    assert recorder is not None
    energy, output = [], []
    for hour in range(DAYS * 24):
        end = START + timedelta(hours=hour + 1)
        energy.append(ImportRow(MILL, end, KWH[hour // 24] / 24, "interval"))
        output.append(ImportRow(OUTPUT, end, TONNES[hour // 24] / 24, "interval"))
    await async_import(recorder, energy, unit="kWh")
    await async_import(recorder, output, unit="t")
    return hub


async def analyze(hub: Hub, **data: object) -> dict:
    return await hub.services.async_call("energy", "analyze_baseline", {
        "energy": MILL, "output": OUTPUT, "start": "2025-05-01", "change": "2025-06-01",
        "end": "2025-07-01", "price": 0.5, **data}, return_response=True)


async def test_model_and_cusum_of_savings(mill: Hub) -> None:
    result = await analyze(mill)
    model = result["model"]
    assert model["days"] == 31
    # Least squares as numpy computes it (to the response's rounding).
    slope, intercept = np.polyfit(TONNES[:CHANGE_DAY], KWH[:CHANGE_DAY], 1)
    assert model["slope"] == pytest.approx(slope, abs=1e-4)
    assert model["intercept"] == pytest.approx(intercept, abs=0.01)
    # The true model within three standard errors; a tight fit.
    assert abs(model["slope"] - 22) < 3 * model["slope_stderr"]
    assert model["r2"] > 0.95 and model["cv_rmse_pct"] < 2.5
    reporting = result["reporting"]
    assert reporting[0]["date"] == "2025-06-01" and len(reporting) == 30
    assert np.allclose(np.cumsum([row["saving"] for row in reporting]),
                       [row["cusum"] for row in reporting], atol=0.05)
    expected = intercept + slope * TONNES[CHANGE_DAY:] - KWH[CHANGE_DAY:]
    assert result["savings_kwh"] == pytest.approx(expected.sum(), abs=0.5)
    # Against the truth (2 kWh/t of June's output): within the model's error, 3 %.
    assert result["savings_kwh"] == pytest.approx(2 * TONNES[CHANGE_DAY:].sum(), rel=0.03)
    assert result["savings_cost"] == pytest.approx(result["savings_kwh"] * 0.5, abs=0.01)


async def test_errors(mill: Hub) -> None:
    with pytest.raises(ServiceValidationError, match="in that order"):
        await analyze(mill, change="2025-07-02")
    with pytest.raises(ServiceValidationError, match="needs at least 10"):
        await analyze(mill, start="2025-05-25")
    with pytest.raises(ServiceValidationError, match="no daily statistics"):
        await analyze(mill, output="sensor.none")
