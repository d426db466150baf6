"""input_datetime: Home Assistant's state and attributes, set_datetime, local time, restore."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError

SHANGHAI = ZoneInfo("Asia/Shanghai")
# 17:00 on 2 March 2026 in Shanghai.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CONFIG = """
input_datetime:
  shift_start:
    name: 早班开始
    has_time: true
    initial: "08:00:00"
  delivery:
    has_date: true
    has_time: true
  audit_day:
    has_date: true
    initial: 2026-04-01
"""


async def set_datetime(hub, entity_id: str, **data: object) -> None:
    await hub.services.async_call("input_datetime", "set_datetime",
                                  {"entity_id": entity_id, **data})


async def test_states_and_attributes_have_home_assistants_shape(hub_factory) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))

    shift = hub.states.get("input_datetime.shift_start")
    assert shift.state == "08:00:00"
    assert shift.attributes == {
        "has_date": False, "has_time": True, "hour": 8, "minute": 0, "second": 0,
        "timestamp": 8 * 3600, "friendly_name": "早班开始",
    }

    delivery = hub.states.get("input_datetime.delivery")
    assert delivery.state == "2026-03-02 00:00:00"  # today, local, at midnight
    assert delivery.attributes == {
        "has_date": True, "has_time": True, "year": 2026, "month": 3, "day": 2,
        "hour": 0, "minute": 0, "second": 0,
        "timestamp": datetime(2026, 3, 2, tzinfo=SHANGHAI).timestamp(),
    }

    audit = hub.states.get("input_datetime.audit_day")
    assert audit.state == "2026-04-01"
    assert audit.attributes == {
        "has_date": True, "has_time": False, "year": 2026, "month": 4, "day": 1,
        "timestamp": datetime(2026, 4, 1, tzinfo=SHANGHAI).timestamp(),
    }


async def test_set_datetime_changes_the_parts_given(hub_factory) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    delivery = "input_datetime.delivery"

    await set_datetime(hub, delivery, time="14:30")
    assert hub.states.get(delivery).state == "2026-03-02 14:30:00"
    await set_datetime(hub, delivery, date="2026-03-05")
    assert hub.states.get(delivery).state == "2026-03-05 14:30:00"
    await set_datetime(hub, delivery, datetime="2026-03-06 06:15:00")
    assert hub.states.get(delivery).state == "2026-03-06 06:15:00"
    # An offset is converted to the site's local time; so is a timestamp.
    await set_datetime(hub, delivery, datetime="2026-03-07T00:00:00Z")
    assert hub.states.get(delivery).state == "2026-03-07 08:00:00"
    await set_datetime(hub, delivery, timestamp=NOW.timestamp())
    assert hub.states.get(delivery).state == "2026-03-02 17:00:00"
    assert hub.states.get(delivery).attributes["timestamp"] == NOW.timestamp()

    await set_datetime(hub, "input_datetime.shift_start", datetime="2026-03-07 07:45:10")
    assert hub.states.get("input_datetime.shift_start").state == "07:45:10"
    await set_datetime(hub, "input_datetime.audit_day", timestamp=NOW.timestamp())
    assert hub.states.get("input_datetime.audit_day").state == "2026-03-02"


@pytest.mark.parametrize(("data", "message"), [
    ({}, "give date and/or time, or datetime, or timestamp"),
    ({"date": "2026-03-05", "datetime": "2026-03-05 08:00"}, "not date and datetime"),
    ({"entity_id": "input_datetime.shift_start", "date": "2026-03-05"}, "holds no date"),
    ({"time": "25:00"}, "expected a time such as '08:00:00'"),
])
async def test_bad_set_datetime_calls_are_refused(hub_factory, data, message) -> None:
    hub = await hub_factory(CONFIG, clock=ManualClock(NOW))
    with pytest.raises(ServiceValidationError, match=message):
        await hub.services.async_call(
            "input_datetime", "set_datetime", {"entity_id": "input_datetime.delivery", **data}
        )
    assert hub.states.get("input_datetime.delivery").state == "2026-03-02 00:00:00"


async def test_restart_restores_values_unless_initial_is_set(hub_factory) -> None:
    clock = ManualClock(NOW)
    hub = await hub_factory(CONFIG, clock=clock)
    await set_datetime(hub, "input_datetime.delivery", datetime="2026-03-09 10:00:00")
    await set_datetime(hub, "input_datetime.shift_start", time="07:30:00")
    await hub.async_stop()
    await clock.advance(3 * 86400)

    again = await hub_factory(CONFIG, config_dir=hub.config_dir, clock=clock)
    assert again.states.get("input_datetime.delivery").state == "2026-03-09 10:00:00"
    assert again.states.get("input_datetime.shift_start").state == "08:00:00"


async def test_timestamps_follow_the_sites_time_zone_across_dst(hub_factory) -> None:
    hub = await hub_factory(
        "plantpulse:\n  time_zone: Europe/Berlin\n" + CONFIG, clock=ManualClock(NOW)
    )
    delivery = "input_datetime.delivery"
    await set_datetime(hub, delivery, datetime="2026-07-01 08:00:00")
    summer = datetime(2026, 7, 1, 6, 0, tzinfo=UTC).timestamp()
    assert hub.states.get(delivery).attributes["timestamp"] == summer
    await set_datetime(hub, delivery, datetime="2026-01-15 08:00:00")
    winter = datetime(2026, 1, 15, 7, 0, tzinfo=UTC).timestamp()
    assert hub.states.get(delivery).attributes["timestamp"] == winter


@pytest.mark.parametrize(("settings", "message"), [
    ("name: nothing", "set has_date, has_time or both to true"),
    ("has_time: true\n    initial: 17:00:00", "expected a time in quotes"),
    ("has_date: true\n    initial: tomorrow", "expected a date such as '2026-03-02'"),
])
async def test_bad_settings_name_the_problem(hub_factory, settings: str, message: str) -> None:
    hub = await hub_factory(f"input_datetime:\n  broken:\n    {settings}\n")
    assert hub.states.entity_ids("input_datetime") == []
    assert any(message in str(issue) for issue in hub.config_issues), hub.config_issues
