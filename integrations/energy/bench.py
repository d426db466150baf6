"""Benchmark: the monthly TOU cost report of 200 meters with a month of 15-minute data each.

`plantpulse bench energy_tou_report`: 200 meters x 2,976 fifteen-minute intervals (March,
576,000 or so in all) are imported into a recorder's long-term statistics (not timed); the
figure is the time to read them back and compute every meter's per-period kWh and cost
(`async_month`, as `energy.costs` does). `compute_15min_s` beside it is the TOU split and
costing alone, from in-memory 15-minute series (every interval its own point).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from plantpulse.core.bench import BenchOptions, Figure, benchmark

METERS = 200
ZONE = ZoneInfo("Asia/Shanghai")
MONTH_START = datetime(2022, 3, 1, tzinfo=ZONE)
INTERVALS = 31 * 96

_CONFIG = """
plantpulse:
  time_zone: Asia/Shanghai
recorder:
  commit_interval: 0
energy:
  tariff: bench
  tariffs:
    bench:
      versions:
        - valid_from: 2022-01-01
          prices: {sharp: 1.1, peak: 0.9, flat: 0.55, valley: 0.3}
          schedule:
            - {from: "00:00", to: "08:00", period: valley}
            - {from: "08:00", to: "10:30", period: flat}
            - {from: "10:30", to: "12:00", period: peak}
            - {from: "12:00", to: "17:00", period: flat}
            - {from: "17:00", to: "19:00", period: peak}
            - {from: "19:00", to: "21:00", period: sharp}
            - {from: "21:00", to: "24:00", period: flat}
  meters:
"""


def _config_text() -> str:
    nodes = "".join(f"    - id: m{index}\n      entity: sensor.m{index}_kwh\n"
                    for index in range(METERS))
    return _CONFIG + nodes


def _consumption(rng: np.random.Generator) -> np.ndarray:
    return np.round(rng.uniform(5, 50, size=(METERS, INTERVALS)), 2)


@benchmark("energy_tou_report", "s")
def energy_tou_report(_options: BenchOptions) -> Figure:
    """Monthly TOU cost report of 200 meters of 15-minute data (recorder read + compute)."""
    from plantpulse.core.bootstrap import async_setup_hub
    from plantpulse.core.recorder import get_recorder
    from plantpulse.core.recorder.statistics_import import ImportRow, async_import
    from plantpulse.integrations.energy.const import DATA_ENERGY
    from plantpulse.integrations.energy.cost import MeterSeries
    from plantpulse.integrations.energy.report import async_month, compute_nodes, parse_month

    amounts = _consumption(np.random.default_rng(36))
    ends = [MONTH_START + timedelta(minutes=15 * (index + 1)) for index in range(INTERVALS)]

    async def main() -> Figure:
        with tempfile.TemporaryDirectory(prefix="plantpulse-bench-") as folder:
            config_dir = Path(folder)
            (config_dir / "configuration.yaml").write_text(_config_text(), encoding="utf-8")
            hub = await async_setup_hub(config_dir)
            await hub.async_start()
            try:
                recorder = get_recorder(hub)
                assert recorder is not None
                config = hub.data[DATA_ENERGY]
                await async_import(recorder, [
                    ImportRow(f"sensor.m{meter}_kwh", ends[index],
                              float(amounts[meter, index]), "interval")
                    for meter in range(METERS) for index in range(INTERVALS)
                ], unit="kWh")
                month = parse_month("2022-03", hub.site.tz)
                started = time.perf_counter()
                results = await async_month(hub, recorder, config, list(config.nodes), month)
                elapsed = time.perf_counter() - started
                assert abs(results["m0"].totals.total - amounts[0].sum()) < 1e-6
                times = np.array([moment.timestamp() for moment in
                                  [MONTH_START, *ends]])
                series = {f"sensor.m{meter}_kwh": MeterSeries(
                    times, np.concatenate(([0.0], np.cumsum(amounts[meter]))))
                    for meter in range(METERS)}
                started = time.perf_counter()
                compute_nodes(config, list(config.nodes), month, series)
                compute = time.perf_counter() - started
            finally:
                await hub.async_stop()
        return Figure(elapsed, {"compute_15min_s": compute})

    return asyncio.run(main())
