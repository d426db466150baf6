"""Event queries: recorded events by type and time range, filtered by their data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Context
from plantpulse.core.recorder import get_recorder
from tests.conftest import HubFactory

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


async def test_events_by_type_and_time_in_home_assistants_shape(
    hub_factory: HubFactory,
) -> None:
    clock = ManualClock(T0)
    hub = await hub_factory("recorder:\n", clock=clock)
    rec = get_recorder(hub)
    assert rec is not None
    context = Context(user_id="u1", parent_id="p1")
    hub.bus.async_fire("alarm_raised", {"key": "pump_1", "severity": "major"}, context=context)
    await clock.advance(60)
    hub.bus.async_fire("shift_started", {"shift": "night"})
    hub.bus.async_fire("alarm_cleared", {"key": "pump_1", "severity": "major"})
    await clock.advance(60)
    hub.bus.async_fire("alarm_raised", {"key": "fan_3", "severity": "warning"})
    hub.bus.async_fire("alarm_acknowledged")
    await rec.async_flush()

    types = ["alarm_raised", "alarm_cleared", "alarm_acknowledged"]
    events = await rec.async_get_events(types, T0)
    assert [(event["event_type"], event["data"].get("key")) for event in events] == [
        ("alarm_raised", "pump_1"), ("alarm_cleared", "pump_1"), ("alarm_raised", "fan_3"),
        ("alarm_acknowledged", None),
    ]
    assert events[0] == {
        "event_type": "alarm_raised",
        "data": {"key": "pump_1", "severity": "major"},
        "origin": "LOCAL",
        "time_fired": T0.isoformat(),
        "context": {"id": context.id, "parent_id": "p1", "user_id": "u1"},
    }
    assert events[3]["data"] == {}

    first_minute = await rec.async_get_events(types, T0, T0 + timedelta(seconds=60))
    assert [event["event_type"] for event in first_minute] == ["alarm_raised"]
    later = await rec.async_get_events(types, T0 + timedelta(seconds=60))
    assert [event["time_fired"] for event in later] == [
        (T0 + timedelta(seconds=60)).isoformat(), (T0 + timedelta(seconds=120)).isoformat(),
        (T0 + timedelta(seconds=120)).isoformat(),
    ]


async def test_data_filter_and_empty_answers(hub_factory: HubFactory) -> None:
    clock = ManualClock(T0)
    hub = await hub_factory("recorder:\n", clock=clock)
    rec = get_recorder(hub)
    assert rec is not None
    for key, severity in [("pump_1", "major"), ("fan_3", "warning"), ("pump_1", "critical")]:
        hub.bus.async_fire("alarm_raised", {"key": key, "severity": severity, "count": 1})
        await clock.advance(1)
    await rec.async_flush()

    pump = await rec.async_get_events(["alarm_raised"], T0, data_filter={"key": "pump_1"})
    assert [event["data"]["severity"] for event in pump] == ["major", "critical"]
    both = await rec.async_get_events(
        ["alarm_raised"], T0, data_filter={"key": "pump_1", "severity": "critical"}
    )
    assert [event["data"]["severity"] for event in both] == ["critical"]
    assert await rec.async_get_events(["alarm_raised"], T0,
                                      data_filter={"key": "boiler"}) == []
    assert await rec.async_get_events(["never_fired"], T0) == []
    assert await rec.async_get_events([], T0) == []
    assert await rec.async_get_events(["alarm_raised"], T0, T0) == []
    assert await rec.async_get_events(["alarm_raised"], T0 + timedelta(hours=1)) == []
