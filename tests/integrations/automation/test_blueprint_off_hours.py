"""The shipped off-hours base load blueprint: the deck's anodizing line, 42 kW after 17:00.

Runs with the real alarm and notify integrations (a JSON web hook on loopback) on a
ManualClock; 09:00 UTC is 17:00 in Asia/Shanghai, the site's default zone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory
from tests.integrations.notify.servers import JsonReceiver

SHANGHAI = ZoneInfo("Asia/Shanghai")
LINE = "sensor.anodizing_line_power"
ALARM = "alarm.off_hours_load_anodizing_line_power"
NAME = {"friendly_name": "阳极氧化线", "unit_of_measurement": "kW"}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in March 2026 (the 2nd is a Monday), Shanghai time."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
async def hook() -> AsyncIterator[JsonReceiver]:
    """The shift lead's web hook, listening on 127.0.0.1."""
    server = JsonReceiver()
    await server.start()
    yield server
    await server.stop()


async def _plant(hub_factory: HubFactory, hook: JsonReceiver, inputs: str,
                 start: datetime) -> tuple[Hub, ManualClock]:
    clock = ManualClock(start)
    hub = await hub_factory(
        "alarm:\n"
        f"notify:\n  - name: shift_lead\n    urls: {hook.url('shift')}\n"
        "automation:\n"
        "  - alias: 阳极氧化线下班后负荷\n"
        "    use_blueprint:\n"
        "      path: plantpulse/off_hours_base_load.yaml\n"
        "      input:\n"
        f"        power_sensor: {LINE}\n" + inputs,
        clock=clock,
    )
    assert hub.config_issues == []
    return hub, clock


async def _at(hub: Hub, clock: ManualClock, moment: datetime, load: float | None = None) -> None:
    await clock.advance_to(moment)
    if load is not None:
        hub.states.async_set(LINE, str(load), NAME)
    await hub.async_block_till_done()


def _alarm(hub: Hub) -> dict[str, Any] | None:
    state = hub.states.get(ALARM)
    return None if state is None else dict(state.attributes)


async def test_the_deck_case_raises_notifies_and_clears_with_the_defaults(
    hub_factory: HubFactory, hook: JsonReceiver
) -> None:
    hub, clock = await _plant(hub_factory, hook, "        notify_target: shift_lead\n",
                              local(2, 16, 0))
    await _at(hub, clock, local(2, 16, 0), 120)  # in production: far above 40, but not off hours
    await _at(hub, clock, local(2, 17, 0), 42)  # production ends, the auxiliaries stay on
    await _at(hub, clock, local(2, 17, 14))
    assert _alarm(hub) is None and hook.received == []

    await _at(hub, clock, local(2, 17, 15))  # above 40 kW for the default 15 minutes
    alarm = _alarm(hub)
    assert alarm is not None
    assert (alarm["severity"], alarm["source"], alarm["data"]) == (
        "minor", LINE, {"load_kw": 42, "threshold_kw": 40})
    assert alarm["messages"]["zh-CN"] == "阳极氧化线 非生产时段负荷 42 kW，17:00 后仍高于 40 kW"
    assert alarm["messages"]["en"] == "阳极氧化线 draws 42 kW off hours, above 40 kW after 17:00"
    [mail] = hook.to("shift")
    assert mail["title"] == "阳极氧化线 非生产时段负荷过高 / Off-hours load high"
    assert "当前负荷 42 kW，17:00 后高于 40 kW" in mail["message"]

    await _at(hub, clock, local(2, 22, 59), 43)  # still on, a little more: no second alarm
    assert _alarm(hub)["count"] == 1 and len(hook.received) == 1
    await _at(hub, clock, local(2, 23, 0), 0)  # somebody switched them off
    assert _alarm(hub) is None
    assert hub.states.get("sensor.active_alarms").state == "0"
    await _at(hub, clock, local(3, 8, 30), 130)  # Tuesday's production is not off hours
    await _at(hub, clock, local(3, 12, 0))
    assert _alarm(hub) is None and len(hook.received) == 1


async def test_a_night_window_on_chosen_days_clears_when_production_starts(
    hub_factory: HubFactory, hook: JsonReceiver
) -> None:
    inputs = ("        threshold: 15\n        after: '22:00'\n        before: '06:00'\n"
              "        weekdays: [fri]\n        duration: {minutes: 30}\n"
              "        severity: major\n        alarm_key: line_3_night_load\n")
    hub, clock = await _plant(hub_factory, hook, inputs, local(5, 21, 0))  # Thursday
    await _at(hub, clock, local(5, 21, 0), 20)
    await _at(hub, clock, local(6, 5, 0))  # Thursday night is not chosen
    assert hub.states.get("alarm.line_3_night_load") is None

    await _at(hub, clock, local(6, 22, 29))  # Friday night, 20 kW > 15 kW for 29 minutes
    assert hub.states.get("alarm.line_3_night_load") is None
    await _at(hub, clock, local(6, 22, 30))
    alarm = hub.states.get("alarm.line_3_night_load")
    assert alarm is not None and alarm.attributes["severity"] == "major"
    await _at(hub, clock, local(7, 5, 59))  # Saturday morning: still Friday's night
    assert hub.states.get("alarm.line_3_night_load") is not None
    await _at(hub, clock, local(7, 6, 0))  # the window ends: the alarm clears
    assert hub.states.get("alarm.line_3_night_load") is None
    assert hook.received == []  # no notify target given: no notifications


async def test_notify_only_without_an_alarm(hub_factory: HubFactory, hook: JsonReceiver) -> None:
    inputs = "        notify_target: shift_lead\n        raise_alarm: false\n"
    hub, clock = await _plant(hub_factory, hook, inputs, local(2, 18, 0))
    await _at(hub, clock, local(2, 18, 0), 41)
    await _at(hub, clock, local(2, 18, 20))
    assert [body["title"] for body in hook.to("shift")] == [
        "阳极氧化线 非生产时段负荷过高 / Off-hours load high"]
    assert hub.states.get("sensor.active_alarms").state == "0"
    await _at(hub, clock, local(2, 19, 0), 10)
    await _at(hub, clock, local(2, 19, 30), 50)
    await _at(hub, clock, local(2, 19, 45))  # high again for 15 minutes: a second notice
    assert len(hook.to("shift")) == 2
