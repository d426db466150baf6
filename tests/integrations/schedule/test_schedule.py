"""schedule: weekly windows switching exactly at their edges, in Shanghai and across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Event

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2 March 2026, 07:00 in Shanghai.
MONDAY_7 = datetime(2026, 3, 2, 7, 0, tzinfo=SHANGHAI)

CONFIG = """
schedule:
  day_shift:
    name: 白班
    monday:
      - from: "08:00:00"
        to: "12:00:00"
      - from: "13:00"
        to: "17:00:00"
        data: {part: afternoon}
    tuesday:
      - from: "08:00:00"
        to: "17:00:00"
  night_shift:
    monday:
      - from: "22:00:00"
        to: "24:00:00"
    tuesday:
      - from: "00:00:00"
        to: "06:00:00"
  never:
"""


def changes(hub, entity_id: str) -> list[Event]:
    events: list[Event] = []
    hub.bus.async_listen(
        "state_changed", events.append,
        lambda event: event.data["entity_id"] == entity_id,
    )
    return events


def state(hub, entity_id: str = "schedule.day_shift") -> tuple[str, str | None]:
    current = hub.states.get(entity_id)
    return current.state, current.attributes["next_event"]


async def test_windows_switch_exactly_at_their_edges(hub_factory) -> None:
    clock = ManualClock(MONDAY_7)
    hub = await hub_factory(CONFIG, clock=clock)
    assert state(hub) == ("off", "2026-03-02T08:00:00+08:00")
    assert hub.states.get("schedule.day_shift").attributes["friendly_name"] == "白班"

    await clock.advance_to(datetime(2026, 3, 2, 7, 59, 59, tzinfo=SHANGHAI))
    assert state(hub)[0] == "off"
    await clock.advance(1)
    assert state(hub) == ("on", "2026-03-02T12:00:00+08:00")
    await clock.advance_to(datetime(2026, 3, 2, 12, 0, tzinfo=SHANGHAI))
    assert state(hub) == ("off", "2026-03-02T13:00:00+08:00")
    await clock.advance_to(datetime(2026, 3, 2, 13, 0, tzinfo=SHANGHAI))
    assert state(hub) == ("on", "2026-03-02T17:00:00+08:00")
    assert hub.states.get("schedule.day_shift").attributes["part"] == "afternoon"
    await clock.advance_to(datetime(2026, 3, 2, 17, 0, tzinfo=SHANGHAI))
    assert state(hub) == ("off", "2026-03-03T08:00:00+08:00")
    assert "part" not in hub.states.get("schedule.day_shift").attributes
    # Tuesday's window, then nothing until next Monday.
    await clock.advance_to(datetime(2026, 3, 3, 17, 0, tzinfo=SHANGHAI))
    assert state(hub) == ("off", "2026-03-09T08:00:00+08:00")


async def test_a_window_across_midnight_is_one_stretch(hub_factory) -> None:
    clock = ManualClock(MONDAY_7)
    hub = await hub_factory(CONFIG, clock=clock)
    night = "schedule.night_shift"
    events = changes(hub, night)
    assert state(hub, night) == ("off", "2026-03-02T22:00:00+08:00")
    await clock.advance_to(datetime(2026, 3, 2, 22, 0, tzinfo=SHANGHAI))
    assert state(hub, night) == ("on", "2026-03-03T06:00:00+08:00")
    await clock.advance_to(datetime(2026, 3, 3, 5, 59, 59, tzinfo=SHANGHAI))
    assert state(hub, night)[0] == "on"
    await clock.advance(1)
    assert state(hub, night) == ("off", "2026-03-09T22:00:00+08:00")
    # Midnight passed without a flicker: one change on, one change off.
    assert [event.data["new_state"].state for event in events] == ["on", "off"]


async def test_a_schedule_without_windows_stays_off(hub_factory) -> None:
    clock = ManualClock(MONDAY_7)
    hub = await hub_factory(CONFIG, clock=clock)
    assert state(hub, "schedule.never") == ("off", None)
    await clock.advance(8 * 86400)
    assert state(hub, "schedule.never") == ("off", None)


async def test_a_restart_inside_a_window_is_on_at_once(hub_factory) -> None:
    clock = ManualClock(MONDAY_7)
    hub = await hub_factory(CONFIG, clock=clock)
    await hub.async_stop()
    await clock.advance_to(datetime(2026, 3, 2, 9, 30, tzinfo=SHANGHAI))
    again = await hub_factory(CONFIG, config_dir=hub.config_dir, clock=clock)
    assert state(again) == ("on", "2026-03-02T12:00:00+08:00")


DST_CONFIG = """
plantpulse:
  time_zone: Europe/Berlin
schedule:
  boiler:
    sunday:
      - from: "01:00:00"
        to: "04:00:00"
    monday:
      - from: "08:00:00"
        to: "17:00:00"
"""


async def test_windows_keep_local_wall_time_across_the_spring_dst_change(hub_factory) -> None:
    # Sunday 29 March 2026: Berlin clocks jump from 02:00 CET to 03:00 CEST.
    clock = ManualClock(datetime(2026, 3, 28, 23, 0, tzinfo=UTC))  # 00:00 CET
    hub = await hub_factory(DST_CONFIG, clock=clock)
    boiler = "schedule.boiler"
    assert state(hub, boiler) == ("off", "2026-03-29T01:00:00+01:00")
    await clock.advance_to(datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert state(hub, boiler) == ("on", "2026-03-29T04:00:00+02:00")
    # 01:00 CET to 04:00 CEST is two real hours.
    await clock.advance_to(datetime(2026, 3, 29, 1, 59, 59, tzinfo=UTC))
    assert state(hub, boiler)[0] == "on"
    await clock.advance(1)
    assert state(hub, boiler) == ("off", "2026-03-30T08:00:00+02:00")
    await clock.advance_to(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    assert state(hub, boiler) == ("on", "2026-03-30T17:00:00+02:00")


async def test_windows_keep_local_wall_time_across_the_autumn_dst_change(hub_factory) -> None:
    # Sunday 25 October 2026: Berlin clocks go back from 03:00 CEST to 02:00 CET.
    clock = ManualClock(datetime(2026, 10, 24, 22, 0, tzinfo=UTC))  # 00:00 CEST
    hub = await hub_factory(DST_CONFIG, clock=clock)
    boiler = "schedule.boiler"
    await clock.advance_to(datetime(2026, 10, 24, 23, 0, tzinfo=UTC))  # 01:00 CEST
    assert state(hub, boiler) == ("on", "2026-10-25T04:00:00+01:00")
    # 01:00 CEST to 04:00 CET is four real hours.
    await clock.advance_to(datetime(2026, 10, 25, 2, 59, 59, tzinfo=UTC))
    assert state(hub, boiler)[0] == "on"
    await clock.advance(1)
    assert state(hub, boiler)[0] == "off"
    assert clock.now() == datetime(2026, 10, 25, 4, 0, tzinfo=BERLIN)


async def test_reload_applies_new_windows_at_once(hub_factory) -> None:
    clock = ManualClock(MONDAY_7)
    hub = await hub_factory(CONFIG, clock=clock)
    (hub.config_dir / "configuration.yaml").write_text(
        CONFIG.replace('"08:00:00"\n        to: "12:00:00"', '"06:00:00"\n        to: "12:00:00"'),
        encoding="utf-8",
    )
    await hub.services.async_call("schedule", "reload", {})
    assert state(hub) == ("on", "2026-03-02T12:00:00+08:00")
    await clock.advance_to(MONDAY_7 + timedelta(hours=5))
    assert state(hub) == ("off", "2026-03-02T13:00:00+08:00")


@pytest.mark.parametrize(("windows", "message"), [
    ('- from: "10:00:00"\n        to: "09:00:00"', "monday, window 1: 'from' (10:00:00) must "
     "be before 'to' (09:00:00)"),
    ('- from: "08:00:00"\n        to: "12:00:00"\n      - from: "11:00:00"\n        to: "13:00"',
     "monday: windows overlap (11:00:00 starts before 12:00:00)"),
    ('- from: 8\n        to: "12:00:00"', "expected a time in quotes"),
    ('- from: "08:00:00"', "a window needs both 'from' and 'to'"),
    ('- from: "24:00:00"\n        to: "24:00:00"', "expected a time such as '08:00:00'"),
])
async def test_a_broken_window_drops_its_whole_schedule(hub_factory, windows, message) -> None:
    config = f"schedule:\n  broken:\n    monday:\n      {windows}\n  fine:\n"
    hub = await hub_factory(config, clock=ManualClock(MONDAY_7))
    assert hub.states.entity_ids("schedule") == ["schedule.fine"]
    assert any(message in str(issue) for issue in hub.config_issues), hub.config_issues
