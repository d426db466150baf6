"""Recorder benchmarks, defined as the anchor harness (`shared/bench/ha/recorder_bench.py`).

Each run boots a fresh hub through the real setup path (`async_setup_hub`) on a throwaway
config dir with `recorder:` (commit_interval 5, as the anchor runs), writes state changes
over 100 sensors carrying the same four attributes with the value changing every write,
and waits until everything is committed. A warm-up writes each sensor once and flushes
first. The timer starts before the first state is set and stops when the last is
committed.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from plantpulse.core.bench import BenchOptions, benchmark
from plantpulse.core.bootstrap import async_setup_hub
from plantpulse.core.recorder import get_recorder

CHANGES: Final = 100_000
SENSORS: Final = 100
BATCH: Final = 5_000
YIELD_EVERY: Final = 1_000
ATTRIBUTES: Final = {
    "unit_of_measurement": "kW", "device_class": "power",
    "state_class": "measurement", "friendly_name": "Line power",
}
CONFIG: Final = textwrap.dedent("""\
    plantpulse:
      name: bench
      time_zone: UTC
    recorder:
      commit_interval: 5
      purge_keep_days: 10
    logger:
      default: warning
    """)


@dataclass(frozen=True)
class RecorderRun:
    """What one run measured."""

    states_per_second: float
    state_rows: int
    database_bytes: int


def _count_states(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM states").fetchone()[0]
    finally:
        conn.close()


def _database_bytes(path: Path) -> int:
    return sum(os.path.getsize(f"{path}{suffix}") for suffix in ("", "-wal")
               if os.path.exists(f"{path}{suffix}"))


def run_recorder(mode: str) -> RecorderRun:
    """Run the `batched` or `burst` scenario once on a fresh hub."""
    with tempfile.TemporaryDirectory(prefix="plantpulse-bench-") as folder:
        config_dir = Path(folder)
        (config_dir / "configuration.yaml").write_text(CONFIG, encoding="utf-8")
        return asyncio.run(_async_run(config_dir, mode))


async def _async_run(config_dir: Path, mode: str) -> RecorderRun:
    hub = await async_setup_hub(config_dir)
    try:
        await hub.async_start()
        recorder = get_recorder(hub)
        if recorder is None:
            raise RuntimeError(f"the recorder did not start: {hub.config_issues}")
        ids = [f"sensor.line_{index}" for index in range(SENSORS)]
        for entity_id in ids:
            hub.states.async_set(entity_id, "-1", ATTRIBUTES)
        await hub.async_block_till_done()
        await recorder.async_flush()
        start = time.perf_counter()
        if mode == "batched":
            for index in range(CHANGES):
                hub.states.async_set(ids[index % SENSORS], str(index), ATTRIBUTES)
                if index % BATCH == BATCH - 1:
                    await hub.async_block_till_done()
                    await recorder.async_flush()
        else:
            for index in range(CHANGES):
                hub.states.async_set(ids[index % SENSORS], str(index), ATTRIBUTES)
                if index % YIELD_EVERY == YIELD_EVERY - 1:
                    await asyncio.sleep(0)
        await hub.async_block_till_done()
        await recorder.async_flush()
        elapsed = time.perf_counter() - start
        rows = await hub.async_add_executor_job(_count_states, recorder.db_path)
        size = await hub.async_add_executor_job(_database_bytes, recorder.db_path)
        if rows != CHANGES + SENSORS:
            raise RuntimeError(f"expected {CHANGES + SENSORS} states rows, found {rows}")
        return RecorderRun(CHANGES / elapsed, rows, size)
    finally:
        await hub.async_stop()


@benchmark("recorder_batched", "states/s")
def recorder_batched(_options: BenchOptions) -> float:
    """100,000 changes over 100 sensors in batches of 5,000, each waited for until committed."""
    return run_recorder("batched").states_per_second


@benchmark("recorder_burst", "states/s")
def recorder_burst(_options: BenchOptions) -> float:
    """100,000 changes fired at once (yielding every 1,000), then waited for until committed."""
    return run_recorder("burst").states_per_second


@benchmark("db_bytes_per_state", "B/state")
def db_bytes_per_state(_options: BenchOptions) -> float:
    """(Database + WAL bytes) / states rows after the batched scenario; lower is better."""
    run = run_recorder("batched")
    return run.database_bytes / run.state_rows
