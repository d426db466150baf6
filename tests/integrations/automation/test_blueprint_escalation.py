"""The shipped alarm escalation blueprint: an alarm nobody acknowledges within N minutes goes
to another notify target, worded as the alarm integration's own escalation.

Real alarm and notify integrations (JSON web hooks on loopback) on a ManualClock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory
from tests.integrations.notify.servers import JsonReceiver

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai


@pytest.fixture
async def hooks() -> AsyncIterator[JsonReceiver]:
    """Web hooks of the manager and the director, listening on 127.0.0.1."""
    server = JsonReceiver()
    await server.start()
    yield server
    await server.stop()


async def _plant(hub_factory: HubFactory, hooks: JsonReceiver, inputs: str,
                 language: str = "zh-CN") -> tuple[Hub, ManualClock]:
    clock = ManualClock(T0)
    hub = await hub_factory(
        f"plantpulse:\n  language: {language}\n"
        "alarm:\n  escalation:\n    - after: '00:10:00'\n      notify: [manager]\n"
        "notify:\n"
        f"  - name: manager\n    urls: {hooks.url('manager')}\n"
        f"  - name: director\n    urls: {hooks.url('director')}\n"
        "automation:\n"
        "  - alias: Pump alarms to the director\n"
        "    use_blueprint:\n"
        "      path: plantpulse/alarm_escalation.yaml\n"
        "      input:\n"
        "        notify_target: director\n" + inputs,
        clock=clock,
    )
    assert hub.config_issues == []
    hub.states.async_set("sensor.pump_1_current", "98.5", {"friendly_name": "一号循环泵电流"})
    return hub, clock


async def _raise(hub: Hub, key: str, severity: str = "major") -> None:
    await hub.services.async_call("alarm", "raise", {
        "key": key, "severity": severity, "source": "sensor.pump_1_current",
        "message": {"zh-CN": "一号循环泵过载", "en": "Pump 1 overload"},
    })
    await hub.async_block_till_done()


async def _minutes(hub: Hub, clock: ManualClock, minutes: float) -> None:
    await clock.advance(minutes * 60)
    await hub.async_block_till_done()


@pytest.mark.parametrize("language", ["zh-CN", "en"])
async def test_unacknowledged_alarm_reaches_the_director_as_the_integration_words_it(
    hub_factory: HubFactory, hooks: JsonReceiver, language: str
) -> None:
    hub, clock = await _plant(hub_factory, hooks,
                              f"        key_prefix: pump_\n        language: {language}\n",
                              language)
    await _raise(hub, "pump_1_overload")
    await _minutes(hub, clock, 3)
    await _raise(hub, "pump_1_overload")  # again while active: counted, same wait
    await _minutes(hub, clock, 6.9)
    assert hooks.received == []

    await _minutes(hub, clock, 0.1)
    [manager] = hooks.to("manager")  # the alarm integration's escalation
    [director] = hooks.to("director")  # the blueprint's
    assert director == manager
    expected = ("【升级·主要告警】一号循环泵过载（10 分钟未确认）" if language == "zh-CN"
                else "[ESCALATED MAJOR] Pump 1 overload (unacknowledged for 10 min)")
    assert director["title"] == expected
    assert director["type"] == "failure"
    assert ("次数：2" if language == "zh-CN" else "Times raised: 2") in director["message"]


async def test_acknowledged_or_cleared_alarms_and_others_do_not_escalate(
    hub_factory: HubFactory, hooks: JsonReceiver
) -> None:
    hub, clock = await _plant(hub_factory, hooks,
                              "        minutes: 5\n        severities: [critical, major]\n")
    await _raise(hub, "pump_1_overload")
    await _raise(hub, "pump_2_overload")
    await _raise(hub, "compressor_oil_low", "warning")  # not a chosen severity
    await _raise(hub, "line_3_stopped", "critical")
    await _minutes(hub, clock, 2)
    await hub.services.async_call("alarm", "acknowledge", {"key": "pump_1_overload"})
    await hub.services.async_call("alarm", "clear", {"key": "pump_2_overload"})
    await _minutes(hub, clock, 3)

    assert [body["title"] for body in hooks.to("director")] == [
        "【升级·严重告警】一号循环泵过载（5 分钟未确认）"]
    assert "标识：line_3_stopped" in hooks.to("director")[0]["message"]

    # The same key raised again is a new alarm with its own wait.
    await _raise(hub, "pump_2_overload")
    await _minutes(hub, clock, 4.9)
    assert len(hooks.to("director")) == 1
    await _minutes(hub, clock, 0.1)
    assert len(hooks.to("director")) == 2
