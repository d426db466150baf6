"""The shipped threshold blueprint: above `high` for a while raises, only below `low` clears.

Runs with the real alarm and notify integrations (a JSON web hook on loopback) on a
ManualClock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.events import Event
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory
from tests.integrations.notify.servers import JsonReceiver

TANK = "sensor.anodizing_tank_temperature"
ALARM = "alarm.tank_hot"
ATTRIBUTES = {"friendly_name": "阳极氧化槽温度", "unit_of_measurement": "°C"}


@pytest.fixture
async def hook() -> AsyncIterator[JsonReceiver]:
    """The maintenance team's web hook, listening on 127.0.0.1."""
    server = JsonReceiver()
    await server.start()
    yield server
    await server.stop()


async def _plant(hub_factory: HubFactory, hook: JsonReceiver,
                 extra: str = "") -> tuple[Hub, ManualClock, list[str]]:
    clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
    hub = await hub_factory(
        "alarm:\n"
        f"notify:\n  - name: maintenance\n    urls: {hook.url('maintenance')}\n"
        "automation:\n"
        "  - id: tank_temperature\n"
        "    use_blueprint:\n"
        "      path: plantpulse/threshold_hysteresis.yaml\n"
        "      input:\n"
        f"        sensor: {TANK}\n"
        "        high: 80\n"
        "        low: 70\n"
        "        duration: '00:05:00'\n"
        "        alarm_key: tank_hot\n" + extra,
        clock=clock, start=False,
    )
    events: list[str] = []

    def record(event: Event) -> None:
        events.append(event.event_type)

    for event_type in ("alarm_raised", "alarm_updated", "alarm_cleared"):
        hub.bus.async_listen(event_type, record)
    hub.states.async_set(TANK, "60", ATTRIBUTES)
    await hub.async_start()
    assert hub.config_issues == []
    return hub, clock, events


async def _measure(hub: Hub, clock: ManualClock, value: float, minutes: float = 0) -> None:
    hub.states.async_set(TANK, str(value), ATTRIBUTES)
    await hub.async_block_till_done()
    await clock.advance(minutes * 60)
    await hub.async_block_till_done()


async def test_raised_after_the_duration_and_cleared_only_below_low(
    hub_factory: HubFactory, hook: JsonReceiver
) -> None:
    hub, clock, events = await _plant(hub_factory, hook)

    await _measure(hub, clock, 85, 4.9)
    assert hub.states.get(ALARM) is None
    await _measure(hub, clock, 86, 0.1)  # still above: the five minutes are up
    alarm = hub.states.get(ALARM)
    assert alarm is not None
    assert (alarm.attributes["severity"], alarm.attributes["source"]) == ("major", TANK)
    assert alarm.attributes["messages"] == {"zh-CN": "阳极氧化槽温度 为 86°C，高于上限 80°C",
                                            "en": "阳极氧化槽温度 is 86°C, above 80°C"}
    assert alarm.attributes["data"] == {"value": 86, "high": 80, "low": 70}
    assert events == ["alarm_raised"]

    await _measure(hub, clock, 75, 10)  # between low and high: stays raised
    await _measure(hub, clock, 88, 10)  # above high again for ten minutes: not raised again
    await _measure(hub, clock, 70, 10)  # at low is not below it
    assert hub.states.get(ALARM) is not None
    assert hub.states.get(ALARM).attributes["count"] == 1
    assert events == ["alarm_raised"]

    await _measure(hub, clock, 69.5, 1)
    assert hub.states.get(ALARM) is None
    assert events == ["alarm_raised", "alarm_cleared"]
    await _measure(hub, clock, 75, 10)  # up to between: nothing
    await _measure(hub, clock, 82, 3)  # above high for 3 minutes only
    await _measure(hub, clock, 78, 10)
    assert events == ["alarm_raised", "alarm_cleared"]
    await _measure(hub, clock, 90, 5)  # a new excursion: a new alarm
    assert events == ["alarm_raised", "alarm_cleared", "alarm_raised"]
    assert hook.received == []


async def test_notifies_when_raised_and_cleared(
    hub_factory: HubFactory, hook: JsonReceiver
) -> None:
    hub, clock, events = await _plant(
        hub_factory, hook,
        "        notify_target: maintenance\n        notify_cleared: true\n"
        "        severity: critical\n")

    await _measure(hub, clock, 81, 5)
    await _measure(hub, clock, 75, 5)
    await _measure(hub, clock, 65, 1)

    assert events == ["alarm_raised", "alarm_cleared"]
    assert [(body["title"], body["message"]) for body in hook.to("maintenance")] == [
        ("阳极氧化槽温度 超上限 / above 80°C",
         "阳极氧化槽温度 为 81°C，高于上限 80°C。 阳极氧化槽温度 is 81°C, above 80°C."),
        ("阳极氧化槽温度 已恢复 / back to normal",
         "阳极氧化槽温度 为 65°C，已低于下限 70°C。阳极氧化槽温度 is 65°C, below 70°C."),
    ]
