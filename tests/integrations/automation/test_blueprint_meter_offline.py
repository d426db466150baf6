"""The shipped meter offline blueprint: unavailable, unknown or silent meters raise an alarm
each, cleared when they read again. Real alarm and notify integrations, a ManualClock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory
from tests.integrations.notify.servers import JsonReceiver

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MAIN = "sensor.main_meter_energy"
LINE_3 = "sensor.line_3_meter_energy"
LINE_3_ALARM = "alarm.meter_offline_line_3_meter_energy"


@pytest.fixture
async def hook() -> AsyncIterator[JsonReceiver]:
    """The energy team's web hook, listening on 127.0.0.1."""
    server = JsonReceiver()
    await server.start()
    yield server
    await server.stop()


class Meters:
    """Two energy meters on a hub with the blueprint; the main meter reads every minute."""

    def __init__(self, hub: Hub, clock: ManualClock) -> None:
        self.hub = hub
        self.clock = clock
        self.main_kwh = 1000.0

    def read(self, entity_id: str, value: str) -> None:
        self.hub.states.async_set(entity_id, value, {"friendly_name": entity_id.split(".")[1]
                                                     .replace("_", " "),
                                                     "unit_of_measurement": "kWh"})

    async def run_until(self, moment: datetime) -> None:
        """Advance plant time to `moment`, the main meter reading at every full minute."""
        while self.clock.now() < moment:
            next_minute = (self.clock.now().replace(second=0, microsecond=0)
                           + timedelta(minutes=1))
            await self.clock.advance_to(min(next_minute, moment))
            if self.clock.now() == next_minute:
                self.main_kwh += 2.5
                self.read(MAIN, f"{self.main_kwh:.1f}")
        await self.hub.async_block_till_done()

    def alarmed(self) -> list[str]:
        """The keys of the active alarms."""
        return sorted(state.attributes["key"] for state in self.hub.states.all("alarm"))


async def _meters(hub_factory: HubFactory, hook: JsonReceiver, extra: str = "") -> Meters:
    clock = ManualClock(T0)
    hub = await hub_factory(
        "alarm:\n"
        f"notify:\n  - name: energy_team\n    urls: {hook.url('energy')}\n"
        "automation:\n"
        "  - alias: Meters offline\n"
        "    use_blueprint:\n"
        "      path: plantpulse/meter_offline.yaml\n"
        "      input:\n"
        f"        meters: [{MAIN}, {LINE_3}]\n"
        "        minutes: 10\n" + extra,
        clock=clock, start=False,
    )
    meters = Meters(hub, clock)
    meters.read(MAIN, "1000.0")
    meters.read(LINE_3, "200.0")
    await hub.async_start()
    assert hub.config_issues == []
    return meters


async def test_an_unavailable_meter_raises_and_clears_when_it_reads_again(
    hub_factory: HubFactory, hook: JsonReceiver
) -> None:
    meters = await _meters(hub_factory, hook,
                           "        notify_target: energy_team\n        notify_cleared: true\n")
    await meters.run_until(T0 + timedelta(minutes=2, seconds=30))
    meters.read(LINE_3, "unavailable")
    await meters.run_until(T0 + timedelta(minutes=12, seconds=59))  # unavailable 10:29
    assert meters.alarmed() == []

    await meters.run_until(T0 + timedelta(minutes=13))  # the check after ten minutes
    assert meters.alarmed() == ["meter_offline_line_3_meter_energy"]
    alarm = meters.hub.states.get(LINE_3_ALARM)
    assert (alarm.attributes["severity"], alarm.attributes["source"]) == ("minor", LINE_3)
    assert alarm.attributes["messages"] == {
        "zh-CN": "line 3 meter energy 离线：10 分钟无有效读数（当前 unavailable）",
        "en": "line 3 meter energy offline: no valid reading for 10 min (now unavailable)"}
    await meters.run_until(T0 + timedelta(minutes=20, seconds=10))
    assert meters.hub.states.get(LINE_3_ALARM).attributes["count"] == 1  # not raised again

    meters.read(LINE_3, "201.5")  # back: cleared at once, not at the next check
    await meters.hub.async_block_till_done()
    assert meters.alarmed() == []
    assert [body["title"] for body in hook.to("energy")] == [
        "line 3 meter energy 离线 / offline", "line 3 meter energy 已恢复 / back online"]
    assert hook.to("energy")[1]["message"] == "line 3 meter energy: 201.5"


async def test_a_meter_that_stops_sending_is_offline_and_unknown_counts_too(
    hub_factory: HubFactory, hook: JsonReceiver
) -> None:
    meters = await _meters(hub_factory, hook, "        severity: major\n"
                           "        alarm_key_prefix: energy_meter_silent_\n")
    await meters.run_until(T0 + timedelta(minutes=1))
    meters.read(LINE_3, "200.4")  # its last reading
    await meters.run_until(T0 + timedelta(minutes=10, seconds=59))
    assert meters.alarmed() == []
    await meters.run_until(T0 + timedelta(minutes=11))
    assert meters.alarmed() == ["energy_meter_silent_line_3_meter_energy"]
    assert meters.hub.states.get("alarm.energy_meter_silent_line_3_meter_energy") \
        .attributes["severity"] == "major"

    meters.read(LINE_3, "unknown")  # an answer, but no value: still offline
    await meters.run_until(T0 + timedelta(minutes=15))
    assert meters.alarmed() == ["energy_meter_silent_line_3_meter_energy"]
    meters.read(LINE_3, "203.0")
    await meters.run_until(T0 + timedelta(minutes=16))
    assert meters.alarmed() == []
    await meters.run_until(T0 + timedelta(minutes=24, seconds=59))
    assert meters.alarmed() == []
    await meters.run_until(T0 + timedelta(minutes=25))  # line 3 silent since 10:15 again
    assert meters.alarmed() == ["energy_meter_silent_line_3_meter_energy"]
    assert hook.received == []
