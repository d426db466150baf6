"""Who hears about an alarm: targets by severity in the site's language, escalation when
nobody acknowledges, and quiet while a key flaps (with a hub clock moved by hand)."""

from __future__ import annotations

from datetime import UTC, datetime

from plantpulse.core.clock import ManualClock
from tests.conftest import HubFactory
from tests.integrations.alarm.conftest import events_of
from tests.integrations.notify.servers import (
    JsonReceiver,
    SmtpServer,
    attachment_names,
    body_text,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 17:00 in Asia/Shanghai
PUMP = {"zh-CN": "一号循环泵过载", "en": "Pump 1 overload"}


def notify_yaml(receiver: JsonReceiver, *names: str) -> str:
    return "notify:\n" + "".join(
        f"  - name: {name}\n    urls: {receiver.url(name)}\n" for name in names
    )


async def test_an_alarm_emails_its_severity_targets_in_chinese(
    hub_factory: HubFactory, smtp: SmtpServer, receiver: JsonReceiver
) -> None:
    hub = await hub_factory(
        "alarm:\n  notify:\n    critical: [ops_email, ops_hook]\n    warning: [ops_hook]\n"
        f"notify:\n  - name: ops_email\n    urls: ['{smtp.url()}']\n"
        f"  - name: ops_hook\n    urls: {receiver.url('ops_hook')}\n",
        extra_files={"media/snapshots/pump_1.jpg": "JPEG stand-in"},
        clock=ManualClock(T0),
    )
    hub.states.async_set("sensor.pump_1_current", "98.5", {"friendly_name": "一号泵 电流"})
    await hub.data["alarm"].async_raise(
        "pump_1_overload", "critical", PUMP, source="sensor.pump_1_current",
        snapshot="media/snapshots/pump_1.jpg",
    )
    await hub.data["alarm"].async_raise("pump_1_overload", "critical", PUMP)
    await hub.async_block_till_done()

    [mail] = smtp.messages
    assert mail["Subject"] == "【严重告警】一号循环泵过载"
    text = body_text(mail)
    for line in ("告警：一号循环泵过载", "级别：严重", "来源：一号泵 电流 (sensor.pump_1_current)",
                 "发生时间：2026-03-02 17:00:00", "标识：pump_1_overload"):
        assert line in text, text
    assert attachment_names(mail) == ["pump_1.jpg"]
    [hook] = receiver.to("ops_hook")
    assert (hook["title"], hook["type"]) == ("【严重告警】一号循环泵过载", "failure")

    await hub.data["alarm"].async_raise("door_3_open", "minor", "三号门未关")
    await hub.async_block_till_done()
    assert len(smtp.messages) == 1 and len(receiver.received) == 1


async def test_english_site_and_cleared_notices(
    hub_factory: HubFactory, receiver: JsonReceiver
) -> None:
    hub = await hub_factory(
        "plantpulse:\n  language: en\n"
        "alarm:\n  notify:\n    major: [ops]\n  notify_cleared: true\n"
        + notify_yaml(receiver, "ops"), clock=ManualClock(T0),
    )
    alarms = hub.data["alarm"]
    await alarms.async_raise("pump_1_overload", "major", PUMP)
    await alarms.async_acknowledge("pump_1_overload", user="li.na")
    await alarms.async_clear("pump_1_overload")
    await hub.async_block_till_done()

    raised, cleared = receiver.to("ops")
    assert raised["title"] == "[MAJOR] Pump 1 overload"
    assert "Alarm: Pump 1 overload\nSeverity: Major" in raised["message"]
    assert "Raised: 2026-03-02 17:00:00" in raised["message"]
    assert (cleared["title"], cleared["type"]) == ("[CLEARED] Pump 1 overload", "success")
    assert "Acknowledged: 2026-03-02 17:00:00 by li.na" in cleared["message"]


async def test_escalation_reaches_more_people_until_acknowledged(
    hub_factory: HubFactory, receiver: JsonReceiver
) -> None:
    clock = ManualClock(T0)
    hub = await hub_factory(
        "alarm:\n  notify:\n    critical: [ops]\n    warning: [ops]\n"
        "  escalation:\n"
        "    - after: '00:10:00'\n      notify: [manager]\n"
        "    - after: '00:30:00'\n      notify: [director]\n      severities: [critical]\n"
        + notify_yaml(receiver, "ops", "manager", "director"), clock=clock,
    )
    escalated = events_of(hub, "alarm_escalated")
    alarms = hub.data["alarm"]
    await alarms.async_raise("kiln_temp", "critical", {"zh-CN": "窑温过高", "en": "Kiln hot"})
    await alarms.async_raise("dust_filter", "warning", "除尘器压差高")
    await clock.advance(9 * 60 + 59)
    await hub.async_block_till_done()
    assert receiver.to("manager") == []

    await clock.advance(1)
    await hub.async_block_till_done()
    titles = sorted(body["title"] for body in receiver.to("manager"))
    assert titles == ["【升级·严重告警】窑温过高（10 分钟未确认）",
                      "【升级·警告告警】除尘器压差高（10 分钟未确认）"]
    assert "已 10 分钟无人确认" in receiver.to("manager")[0]["message"]
    assert [(data["key"], data["step"], data["notify"]) for _kind, data in escalated] == [
        ("kiln_temp", 1, ["manager"]), ("dust_filter", 1, ["manager"])]

    await hub.services.async_call("alarm", "acknowledge", {"key": "kiln_temp"})
    await clock.advance(30 * 60)
    await hub.async_block_till_done()
    assert receiver.to("director") == []  # acknowledged; the warning has no second step
    assert len(receiver.to("ops")) == 2


async def test_escalation_continues_after_a_restart(
    hub_factory: HubFactory, receiver: JsonReceiver, tmp_path
) -> None:
    folder = tmp_path / "plant"
    config = ("alarm:\n  escalation:\n    - after: '00:10:00'\n      notify: [manager]\n"
              + notify_yaml(receiver, "manager"))
    clock = ManualClock(T0)
    hub = await hub_factory(config, config_dir=folder, clock=clock)
    await hub.data["alarm"].async_raise("kiln_temp", "critical", "窑温过高")
    await clock.advance(5 * 60)
    await hub.async_stop()

    hub = await hub_factory(config, config_dir=folder, clock=clock)
    await clock.advance(5 * 60)
    await hub.async_block_till_done()
    assert [body["title"] for body in receiver.to("manager")] == [
        "【升级·严重告警】窑温过高（10 分钟未确认）"]
    await clock.advance(60 * 60)
    await hub.async_block_till_done()
    assert len(receiver.to("manager")) == 1


async def test_a_flapping_key_is_quiet_until_it_settles(
    hub_factory: HubFactory, receiver: JsonReceiver
) -> None:
    clock = ManualClock(T0)
    hub = await hub_factory(
        "plantpulse:\n  language: en\n"
        "alarm:\n  notify:\n    major: [ops]\n  notify_cleared: true\n"
        "  flapping:\n    max_changes: 4\n    window: '00:10:00'\n"
        + notify_yaml(receiver, "ops"), clock=clock,
    )
    flapping = events_of(hub, "alarm_flapping")
    history = events_of(hub, "alarm_raised", "alarm_cleared")
    alarms = hub.data["alarm"]
    for _ in range(4):  # 8 changes within 4 minutes
        await alarms.async_raise("belt_slip", "major", "Belt 2 slipping")
        await clock.advance(30)
        await alarms.async_clear("belt_slip")
        await clock.advance(30)
    await alarms.async_raise("belt_slip", "major", "Belt 2 slipping")
    await hub.async_block_till_done()

    # Changes 1-4 notified (raise, clear, raise, clear); the 5th made it flap.
    assert [body["title"] for body in receiver.to("ops")] == [
        "[MAJOR] Belt 2 slipping", "[CLEARED] Belt 2 slipping",
        "[MAJOR] Belt 2 slipping", "[CLEARED] Belt 2 slipping"]
    assert flapping == [("alarm_flapping", {"key": "belt_slip", "flapping": True})]
    assert len(history) == 9  # every change is still recorded
    assert hub.states.get("alarm.belt_slip").attributes["flapping"] is True
    assert alarms.is_flapping("belt_slip")

    await clock.advance(9 * 60)
    await hub.async_block_till_done()
    assert alarms.is_flapping("belt_slip") and len(receiver.to("ops")) == 4
    await clock.advance(60)
    await hub.async_block_till_done()
    assert not alarms.is_flapping("belt_slip")
    assert flapping[-1] == ("alarm_flapping",
                            {"key": "belt_slip", "flapping": False, "changes": 9})
    last = receiver.to("ops")[-1]
    assert last["title"] == "[MAJOR] Belt 2 slipping (no longer flapping)"
    assert "changed 9 times before it settled" in last["message"]
    assert hub.states.get("alarm.belt_slip").attributes["flapping"] is False


async def test_a_missing_notify_target_is_reported(hub_factory: HubFactory) -> None:
    hub = await hub_factory("alarm:\n  notify:\n    critical: [night_shift]\n")
    await hub.data["alarm"].async_raise("kiln_temp", "critical", "窑温过高")
    await hub.async_block_till_done()
    [notice] = [item for item in hub.notifications.all()
                if item.notification_id == "alarm_unknown_target_night_shift"]
    assert "'night_shift', which is not a notify target" in notice.message
