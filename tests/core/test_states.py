"""The state machine: immutable states, change detection, validation, late data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plantpulse.core.const import EVENT_STATE_BACKFILLED, EVENT_STATE_CHANGED
from plantpulse.core.events import Event
from plantpulse.core.exceptions import InvalidEntityIdError, InvalidStateError
from plantpulse.core.hub import Hub


async def test_set_fires_state_changed_only_on_change(hub: Hub) -> None:
    events: list[Event] = []
    hub.bus.async_listen(EVENT_STATE_CHANGED, events.append)
    first = hub.states.async_set("sensor.line_power", "40.5", {"unit_of_measurement": "kW"})
    assert hub.states.async_set("sensor.line_power", "40.5", {"unit_of_measurement": "kW"}) is None
    second = hub.states.async_set("sensor.line_power", "40.5", {"unit_of_measurement": "W"})
    third = hub.states.async_set("sensor.line_power", "41", {"unit_of_measurement": "W"})
    assert [event.data["new_state"] for event in events] == [first, second, third]
    assert events[1].data["old_state"] is first
    assert second.last_changed_timestamp == first.last_changed_timestamp
    assert second.last_updated_timestamp >= first.last_updated_timestamp
    assert third.last_changed_timestamp == third.last_updated_timestamp
    assert third.attributes is second.attributes


async def test_state_attributes_are_read_only(hub: Hub) -> None:
    state = hub.states.async_set("sensor.a", "1", {"x": 1})
    with pytest.raises(TypeError):
        state.attributes["x"] = 2  # type: ignore[index]


@pytest.mark.parametrize("bad", ["Sensor.A", "sensor", "sensor.", "sensor._a", "a b.c", "s.a__b"])
async def test_invalid_entity_ids_are_refused(hub: Hub, bad: str) -> None:
    with pytest.raises(InvalidEntityIdError):
        hub.states.async_set(bad, "1")


async def test_too_long_state_is_refused(hub: Hub) -> None:
    with pytest.raises(InvalidStateError, match="limit is 255"):
        hub.states.async_set("sensor.a", "x" * 256)


async def test_late_measurement_is_backfilled_not_current(hub: Hub) -> None:
    backfilled: list[Event] = []
    hub.bus.async_listen(EVENT_STATE_BACKFILLED, backfilled.append)
    now = datetime.now(UTC)
    current = hub.states.async_set("sensor.meter", "100", measured_at=now)
    assert current.measured_timestamp == pytest.approx(now.timestamp())
    assert hub.states.async_set("sensor.meter", "90", measured_at=now - timedelta(hours=1)) is None
    assert hub.states.get("sensor.meter") is current
    late = backfilled[0].data["state"]
    assert (late.state, late.timestamp) == ("90", pytest.approx((now - timedelta(hours=1))
                                                                 .timestamp()))


async def test_remove_and_queries(hub: Hub) -> None:
    hub.states.async_set("sensor.a", "1")
    hub.states.async_set("switch.b", "on")
    assert hub.states.entity_ids("sensor") == ["sensor.a"]
    assert [state.entity_id for state in hub.states.all(["switch"])] == ["switch.b"]
    assert hub.states.is_state("switch.b", "on")
    assert hub.states.async_remove("switch.b")
    assert hub.states.get("switch.b") is None
    assert not hub.states.async_remove("switch.b")


async def test_as_dict_shape(hub: Hub) -> None:
    state = hub.states.async_set("sensor.a", "1", {"unit_of_measurement": "kW"})
    data = state.as_dict()
    assert set(data) == {"entity_id", "state", "attributes", "last_changed", "last_updated",
                         "context"}
    assert data["last_changed"].endswith("+00:00")
    assert state.as_compressed()["s"] == "1"


async def test_attributes_that_cannot_be_sent_are_refused(hub: Hub) -> None:
    import numpy as np

    with pytest.raises(InvalidStateError, match=r"sensor\.a cannot be stored.*numpy"):
        hub.states.async_set("sensor.a", "1", {"count": np.int64(3)})
    with pytest.raises(InvalidStateError, match="no NaN"):
        hub.states.async_set("sensor.a", "1", {"x": float("nan")})
    with pytest.raises(InvalidStateError, match="the limit is 16384"):
        hub.states.async_set("sensor.a", "1", {"blob": "x" * 20_000})
    assert hub.states.get("sensor.a") is None
    hub.states.async_set("sensor.a", "1", {"count": 3})
    with pytest.raises(InvalidStateError):
        hub.states.async_set("sensor.a", "2", {"count": float("inf")})
    assert hub.states.get("sensor.a").attributes == {"count": 3}
