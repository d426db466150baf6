"""Retention: raw states and events purged, statistics kept by their own (longer) retention."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from plantpulse.core.exceptions import ServiceValidationError
from tests.core.recorder.conftest import RecorderHub, query

ENERGY = {"unit_of_measurement": "kWh", "state_class": "total_increasing"}
DAY = 86_400
# Midnight UTC three days ago: old enough to purge with keep_days 1, young enough for stats.
OLD = int(time.time() // DAY * DAY) - 3 * DAY


def old(minutes: float) -> datetime:
    return datetime.fromtimestamp(OLD + minutes * 60, UTC)


async def test_purge_deletes_old_states_and_keeps_statistics(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    for step in range(12):
        hub.states.async_set("sensor.mill_energy", str(100 + step), ENERGY,
                             measured_at=old(step * 10))
    hub.states.async_set("sensor.mill_energy", "200", ENERGY)
    await rec.async_flush()
    hourly_before = await rec.async_get_statistics(["sensor.mill_energy"], "hour", old(0),
                                                   old(120))
    assert [row["sum"] for row in hourly_before["sensor.mill_energy"]] == [5.0, 11.0]

    await hub.services.async_call("recorder", "purge", {"keep_days": 1})
    await rec.async_flush()

    states = query(rec.db_path, "SELECT state FROM states ORDER BY ts_us")
    assert states == [("111",), ("200",)], "the last state before the cutoff is kept"
    assert await rec.async_get_statistics(["sensor.mill_energy"], "hour", old(0),
                                          old(120)) == hourly_before
    history = await rec.async_get_history(["sensor.mill_energy"], old(200))
    assert [row["state"] for row in history["sensor.mill_energy"]] == ["111", "200"]


async def test_purge_removes_unreferenced_attributes_and_event_data(
    recorder_hub: RecorderHub
) -> None:
    hub, rec = await recorder_hub()
    for step in range(5):
        hub.states.async_set("camera.gate", "idle", {"frame": step},
                             measured_at=old(step))
    hub.states.async_set("camera.gate", "recording", {"frame": 99})
    hub.bus.async_fire("gate_opened", {"by": "card 7"},
                       time_fired_timestamp=OLD + 60)
    hub.bus.async_fire("gate_opened", {"by": "card 9"})
    await rec.async_flush()
    assert query(rec.db_path, "SELECT COUNT(*) FROM state_attributes") == [(6,)]

    await hub.services.async_call("recorder", "purge", {"keep_days": 1})
    await rec.async_flush()

    assert query(rec.db_path, "SELECT shared_attrs FROM state_attributes ORDER BY 1") == [
        ('{"frame":4}',), ('{"frame":99}',)
    ]
    assert query(rec.db_path, "SELECT shared_data FROM event_data WHERE shared_data LIKE "
                 "'%card%'") == [('{"by":"card 9"}',)]
    hub.states.async_set("camera.gate", "idle", {"frame": 4})
    hub.states.async_set("camera.gate", "recording", {"frame": 0})
    await rec.async_flush()
    assert query(rec.db_path, "SELECT COUNT(*) FROM state_attributes") == [(3,)]
    dangling = query(rec.db_path, "SELECT COUNT(*) FROM states s LEFT JOIN state_attributes a "
                     "ON a.attributes_id = s.attributes_id WHERE s.attributes_id IS NOT NULL "
                     "AND a.attributes_id IS NULL")
    assert dangling == [(0,)]


async def test_five_minute_statistics_have_their_own_retention(
    recorder_hub: RecorderHub, tmp_path: Path
) -> None:
    folder = tmp_path / "plant"
    hub, rec = await recorder_hub(config_dir=folder)
    for step in range(7):
        hub.states.async_set("sensor.kiln_energy", str(step), ENERGY,
                             measured_at=old(step * 10))
    await rec.async_flush()
    await hub.async_stop()

    hub, rec = await recorder_hub("keep_5minute_days: 1\nauto_purge: false",
                                  config_dir=folder)
    rec.async_purge()
    await rec.async_flush()

    assert query(rec.db_path, "SELECT COUNT(*) FROM statistics_short_term WHERE start_s < ?",
                 (int(time.time()) - DAY,)) == [(0,)]
    hourly = await rec.async_get_statistics(["sensor.kiln_energy"], "hour", old(0), old(60))
    assert [row["sum"] for row in hourly["sensor.kiln_energy"]] == [5.0]


async def test_purge_service_validates_keep_days(recorder_hub: RecorderHub) -> None:
    hub, _rec = await recorder_hub()
    with pytest.raises(ServiceValidationError, match="keep_days"):
        await hub.services.async_call("recorder", "purge", {"keep_days": -1})


async def test_purge_runs_in_chunks_while_states_keep_coming(
    recorder_hub: RecorderHub
) -> None:
    hub, rec = await recorder_hub()
    start = old(0)
    for step in range(25_000):
        hub.states.async_set("sensor.vibration", str(step),
                             measured_at=start + timedelta(seconds=step))
    await rec.async_flush()
    rec.async_purge(1)
    for step in range(100):
        hub.states.async_set("sensor.line_power", str(step))
        if step % 10 == 0:
            await rec.async_flush()
    await rec.async_flush()
    assert query(rec.db_path, "SELECT COUNT(*) FROM states WHERE ts_us < ?",
                 ((OLD + DAY) * 1_000_000,)) == [(1,)]
    assert query(rec.db_path, "SELECT COUNT(*) FROM states") == [(101,)]


async def test_states_queued_while_a_purge_runs_keep_their_attributes(
    recorder_hub: RecorderHub
) -> None:
    hub, rec = await recorder_hub()
    for step in range(5):
        hub.states.async_set("camera.gate", "idle", {"frame": step}, measured_at=old(step))
    hub.states.async_set("camera.gate", "recording", {"frame": 99})
    await rec.async_flush()
    loop = asyncio.get_running_loop()
    old_rows_reads = 0

    def again(frame: int) -> None:
        hub.states.async_set("camera.gate", "idle", {"frame": frame})
        hub.states.async_set("camera.gate", "recording", {"frame": 99})

    def traced(statement: str) -> None:
        # Runs in the writer connection's thread as the purge reads: the states set here
        # reach the queue before the purge goes on, as they would from a busy plant.
        nonlocal old_rows_reads
        if statement.startswith("SELECT ts_us, attributes_id FROM states"):
            old_rows_reads += 1
            if old_rows_reads == 2:
                loop.call_soon_threadsafe(again, 1)
        elif statement.startswith("SELECT DISTINCT attributes_id FROM states"):
            loop.call_soon_threadsafe(again, 0)

    await rec._conn.set_trace_callback(traced)  # the writer's connection: there is no hook
    await hub.services.async_call("recorder", "purge", {"keep_days": 1})
    await rec.async_flush()
    await rec._conn.set_trace_callback(None)

    assert old_rows_reads == 2
    dangling = query(rec.db_path, "SELECT COUNT(*) FROM states s LEFT JOIN state_attributes a "
                     "ON a.attributes_id = s.attributes_id WHERE s.attributes_id IS NOT NULL "
                     "AND a.attributes_id IS NULL")
    assert dangling == [(0,)]
    history = await rec.async_get_history(["camera.gate"], old(200))
    assert [row["attributes"]["frame"] for row in history["camera.gate"]] == [4, 99, 1, 99, 0, 99]
