"""History queries: Home Assistant's shape, the state at the start time, the response options."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.conftest import LoopStallMeter
from tests.core.recorder.conftest import RecorderHub

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
UNIT = {"unit_of_measurement": "kW"}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def record_series(recorder_hub: RecorderHub):
    hub, rec = await recorder_hub()
    hub.states.async_set("sensor.pump_power", "1.0", UNIT, measured_at=at(0))
    hub.states.async_set("sensor.pump_power", "2.0", UNIT, measured_at=at(10))
    hub.states.async_set("sensor.pump_power", "2.0", {**UNIT, "note": "calibrated"},
                         measured_at=at(20))
    hub.states.async_set("sensor.pump_power", "3.0", UNIT, measured_at=at(30))
    hub.states.async_set("switch.pump", "on", measured_at=at(5))
    await rec.async_flush()
    return hub, rec


async def test_history_starts_with_the_state_in_effect(recorder_hub: RecorderHub) -> None:
    _hub, rec = await record_series(recorder_hub)
    history = await rec.async_get_history(["sensor.pump_power"], at(15), at(40))

    assert history == {"sensor.pump_power": [
        {"entity_id": "sensor.pump_power", "state": "2.0", "attributes": UNIT,
         "last_changed": at(15).isoformat(), "last_updated": at(15).isoformat()},
        {"entity_id": "sensor.pump_power", "state": "2.0",
         "attributes": {**UNIT, "note": "calibrated"},
         "last_changed": at(10).isoformat(), "last_updated": at(20).isoformat()},
        {"entity_id": "sensor.pump_power", "state": "3.0", "attributes": UNIT,
         "last_changed": at(30).isoformat(), "last_updated": at(30).isoformat()},
    ]}


async def test_minimal_response_and_no_attributes(recorder_hub: RecorderHub) -> None:
    _hub, rec = await record_series(recorder_hub)
    history = await rec.async_get_history(["sensor.pump_power"], at(-5), minimal_response=True,
                                          no_attributes=True)
    assert history["sensor.pump_power"] == [
        {"entity_id": "sensor.pump_power", "state": "1.0", "attributes": {},
         "last_changed": at(0).isoformat(), "last_updated": at(0).isoformat()},
        {"state": "2.0", "last_changed": at(10).isoformat()},
        {"state": "3.0", "last_changed": at(30).isoformat()},
    ]


async def test_significant_changes_only_skips_attribute_updates(
    recorder_hub: RecorderHub
) -> None:
    _hub, rec = await record_series(recorder_hub)
    history = await rec.async_get_history(["sensor.pump_power"], at(-5),
                                          significant_changes_only=True)
    assert [row["state"] for row in history["sensor.pump_power"]] == ["1.0", "2.0", "3.0"]


async def test_all_entities_and_end_time(recorder_hub: RecorderHub) -> None:
    _hub, rec = await record_series(recorder_hub)
    history = await rec.async_get_history(None, at(1), at(9))
    assert sorted(history) == ["sensor.pump_power", "switch.pump"]
    assert [row["state"] for row in history["sensor.pump_power"]] == ["1.0"]
    assert [row["state"] for row in history["switch.pump"]] == ["on"]


async def test_unknown_entity_and_empty_range(recorder_hub: RecorderHub) -> None:
    _hub, rec = await record_series(recorder_hub)
    assert await rec.async_get_history(["sensor.never_seen"], at(0)) == {}
    assert await rec.async_get_history(["switch.pump"], at(-30), at(-20)) == {}


async def test_compact_shape_for_the_websocket(recorder_hub: RecorderHub) -> None:
    _hub, rec = await record_series(recorder_hub)
    history = await rec.async_get_history(["sensor.pump_power"], at(15), at(40), compact=True)
    assert history == {"sensor.pump_power": [
        {"s": "2.0", "a": UNIT, "lu": at(15).timestamp()},
        {"s": "2.0", "a": {**UNIT, "note": "calibrated"}, "lu": at(20).timestamp(),
         "lc": at(10).timestamp()},
        {"s": "3.0", "a": UNIT, "lu": at(30).timestamp()},
    ]}

    minimal = await rec.async_get_history(["sensor.pump_power"], at(-5), minimal_response=True,
                                          no_attributes=True, compact=True)
    assert minimal["sensor.pump_power"] == [
        {"s": "1.0", "a": {}, "lu": at(0).timestamp()},
        {"s": "2.0", "lu": at(10).timestamp()},
        {"s": "3.0", "lu": at(30).timestamp()},
    ]


async def test_many_attribute_sets_are_read_without_stalling_the_loop(
    recorder_hub: RecorderHub
) -> None:
    hub, rec = await recorder_hub()
    readings = [float(step) for step in range(1_500)]
    for step in range(1_500):
        hub.states.async_set("sensor.spectrum", str(step), {"bins": readings, "step": step},
                             measured_at=at(step / 60))
    await rec.async_flush()
    async with LoopStallMeter() as meter:
        await asyncio.sleep(0.05)
        history = await rec.async_get_history(["sensor.spectrum"], at(-1))

    assert [row["attributes"]["step"] for row in history["sensor.spectrum"]] == list(range(1_500))
    assert meter.worst < 0.05, f"the event loop stalled for {meter.worst * 1000:.0f} ms"


async def test_two_states_at_one_time_keep_their_order(recorder_hub: RecorderHub) -> None:
    """A correction entered at the same measured time wins, even when the first reading's
    attributes were new to the recorder (their row waited for a database lookup)."""
    hub, rec = await recorder_hub()
    hub.states.async_set("sensor.manual", "10", {"note": "read by hand"}, measured_at=at(0))
    hub.states.async_set("sensor.manual", "12", {}, measured_at=at(0))
    await rec.async_flush()
    history = await rec.async_get_history(["sensor.manual"], at(-1), at(1))
    assert [row["state"] for row in history["sensor.manual"]] == ["12"]
