"""Notify targets: e-mail to a real SMTP server, web hooks, the delivery log, retries on the
hub clock, failures that raise an alarm, and a loop that never waits for a send."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory, LoopStallMeter, free_port
from tests.integrations.notify.servers import (
    JsonReceiver,
    SmtpServer,
    attachment_names,
    body_text,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def log_of(hub: Hub, **query: object) -> list[dict]:
    response = await hub.services.async_call("notify", "delivery_log", query,
                                             return_response=True)
    assert response is not None
    return response["deliveries"]


async def test_email_with_attachment_reaches_an_smtp_server(
    hub_factory: HubFactory, smtp: SmtpServer
) -> None:
    hub = await hub_factory(
        f"notify:\n  - name: ops_email\n    urls: ['{smtp.url('shift-lead@plant.example')}']\n",
        extra_files={"media/snapshots/pump_1.jpg": "JPEG bytes stand-in"},
    )
    assert not hub.config_issues, hub.config_issues

    response = await hub.services.async_call(
        "notify", "ops_email",
        {"title": "一号循环泵过载", "message": "电流 98.5 A，超过 90 A 持续 5 分钟",
         "data": {"attachments": ["media/snapshots/pump_1.jpg"]}},
        return_response=True,
    )
    await hub.async_block_till_done()

    assert smtp.logins == ["alerts"]
    [mail] = smtp.messages
    assert mail["Subject"] == "一号循环泵过载"
    assert smtp.envelopes[0].rcpt_tos == ["shift-lead@plant.example"]
    assert "电流 98.5 A，超过 90 A 持续 5 分钟" in body_text(mail)
    assert attachment_names(mail) == ["pump_1.jpg"]
    [entry] = await log_of(hub)
    assert entry["id"] == response["delivery_id"]
    assert (entry["status"], entry["attempts"], entry["error"]) == ("sent", 1, None)
    assert entry["results"][0]["service"] == "E-Mail"
    assert smtp.password not in entry["results"][0]["url"]


async def test_json_hook_payload_and_log_filters(
    hub_factory: HubFactory, receiver: JsonReceiver
) -> None:
    hub = await hub_factory(
        "notify:\n"
        f"  - name: line_hook\n    urls: {receiver.url('line')}\n"
        f"  - name: office_hook\n    urls: {receiver.url('office')}\n    log_size: 2\n"
    )
    await hub.services.async_call("notify", "line_hook", {
        "message": "Line 3 stopped", "title": "Production",
        "data": {"type": "warning", "format": "markdown"},
    })
    for number in range(3):
        await hub.services.async_call("notify", "office_hook", {"message": f"note {number}"})
    await hub.async_block_till_done()

    [line] = receiver.to("line")
    assert (line["title"], line["message"], line["type"]) == (
        "Production", "Line 3 stopped", "warning")
    assert [body["message"] for body in receiver.to("office")] == ["note 0", "note 1", "note 2"]
    office = await log_of(hub, target="office_hook")
    assert [entry["message"] for entry in office] == ["note 2", "note 1"]
    assert [entry["target"] for entry in await log_of(hub, limit=1)] == ["office_hook"]
    assert await log_of(hub, status="failed") == []


async def test_the_call_returns_at_once_and_the_loop_keeps_running_while_sending(
    hub_factory: HubFactory, receiver: JsonReceiver
) -> None:
    receiver.delay = 0.4
    hub = await hub_factory(f"notify:\n  - name: slow_hook\n    urls: {receiver.url()}\n")
    async with LoopStallMeter() as meter:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await hub.services.async_call("notify", "slow_hook", {"message": "queued"})
        call_took = loop.time() - started
        assert receiver.received == []
        [entry] = await log_of(hub)
        assert entry["status"] in ("queued", "sending")
        await hub.async_block_till_done()
    assert call_took < 0.05
    assert [body["message"] for body in receiver.received] == ["queued"]
    assert meter.worst < 0.05, f"the event loop stalled for {meter.worst * 1000:.0f} ms"


async def test_a_target_that_is_down_is_retried_until_it_comes_up(
    hub_factory: HubFactory,
) -> None:
    clock = ManualClock(T0)
    down = JsonReceiver(free_port())
    hub = await hub_factory(f"notify:\n  - name: hook\n    urls: {down.url()}\n", clock=clock)
    await hub.services.async_call("notify", "hook", {"message": "Boiler pressure high"})
    await hub.async_block_till_done()
    [entry] = await log_of(hub)
    assert (entry["status"], entry["attempts"]) == ("retrying", 1)
    assert entry["next_attempt"] == "2026-03-02T09:00:10+00:00"
    assert "Connection error" in entry["error"]

    await down.start()
    try:
        await clock.advance(9)
        await hub.async_block_till_done()
        assert down.received == []
        await clock.advance(1)
        await hub.async_block_till_done()
    finally:
        await down.stop()
    assert [body["message"] for body in down.received] == ["Boiler pressure high"]
    [entry] = await log_of(hub)
    assert (entry["status"], entry["attempts"], entry["error"]) == ("sent", 2, None)
    assert entry["finished"] == "2026-03-02T09:00:10+00:00"


async def test_a_target_that_stays_down_is_logged_failed_and_raises_a_warning_alarm(
    hub_factory: HubFactory, receiver: JsonReceiver
) -> None:
    clock = ManualClock(T0)
    dead = f"json://127.0.0.1:{free_port()}/hook"
    hub = await hub_factory(
        "plantpulse:\n  language: en\nalarm:\nnotify:\n"
        f"  - name: sms_gateway\n    urls: ['{dead}']\n"
        f"  - name: ops_hook\n    urls: ['{receiver.url()}']\n", clock=clock,
    )
    await hub.services.async_call("notify", "sms_gateway",
                                  {"title": "Pump 1", "message": "Pump 1 overload: 98 A"})
    for _ in range(4):
        await hub.async_block_till_done()
        await clock.advance(300)
    await hub.async_block_till_done()

    [entry] = await log_of(hub, status="failed")
    assert (entry["attempts"], entry["title"], entry["message"]) == (
        4, "Pump 1", "Pump 1 overload: 98 A")
    alarm = hub.data["alarm"].get("notify_failed_sms_gateway")
    assert alarm is not None and alarm.severity == "warning"
    assert alarm.message("en").startswith("Notification target sms_gateway failed after 4")
    assert "发送失败" in alarm.message("zh-CN")
    assert alarm.data["delivery_id"] == entry["id"]
    assert hub.states.get("sensor.active_alarms").state == "1"
    # Another target is not held up by the dead one.
    await hub.services.async_call("notify", "ops_hook", {"message": "still here"})
    await hub.async_block_till_done()
    assert [body["message"] for body in receiver.received] == ["still here"]


async def test_without_alarms_a_failure_becomes_a_persistent_notification(
    hub_factory: HubFactory,
) -> None:
    clock = ManualClock(T0)
    hub = await hub_factory(
        f"notify:\n  - name: hook\n    urls: json://127.0.0.1:{free_port()}/\n"
        "    retry_delays: []\n", clock=clock,
    )
    await hub.services.async_call("notify", "hook", {"message": "lost?"})
    await hub.async_block_till_done()
    [entry] = await log_of(hub)
    assert (entry["status"], entry["attempts"]) == ("failed", 1)
    [notice] = [item for item in hub.notifications.all()
                if item.notification_id == "notify_failed_hook"]
    assert "hook" in notice.message and "lost?" in notice.message


async def test_the_next_delivery_clears_the_failure_alarm(
    hub_factory: HubFactory,
) -> None:
    clock = ManualClock(T0)
    hook = JsonReceiver(free_port())
    hub = await hub_factory(
        f"alarm:\nnotify:\n  - name: hook\n    urls: {hook.url()}\n    retry_delays: [5]\n",
        clock=clock,
    )
    await hub.services.async_call("notify", "hook", {"message": "first"})
    await hub.async_block_till_done()
    await clock.advance(5)
    await hub.async_block_till_done()
    assert hub.data["alarm"].get("notify_failed_hook") is not None

    await hook.start()
    try:
        await hub.services.async_call("notify", "hook", {"message": "second"})
        await hub.async_block_till_done()
    finally:
        await hook.stop()
    assert [body["message"] for body in hook.received] == ["second"]
    assert hub.data["alarm"].get("notify_failed_hook") is None


async def test_retries_waiting_at_a_stop_are_sent_after_the_restart(
    hub_factory: HubFactory, tmp_path
) -> None:
    folder = tmp_path / "plant"
    hook = JsonReceiver(free_port())
    config = f"notify:\n  - name: hook\n    urls: {hook.url()}\n"
    clock = ManualClock(T0)
    hub = await hub_factory(config, config_dir=folder, clock=clock)
    await hub.services.async_call("notify", "hook", {"message": "across a restart"})
    await hub.async_block_till_done()
    await hub.async_stop()

    await hook.start()
    try:
        hub = await hub_factory(config, config_dir=folder, clock=clock)
        [entry] = await log_of(hub)
        assert (entry["status"], entry["attempts"]) == ("retrying", 1)
        await clock.advance(10)
        await hub.async_block_till_done()
    finally:
        await hook.stop()
    assert [body["message"] for body in hook.received] == ["across a restart"]
    [entry] = await log_of(hub)
    assert (entry["status"], entry["attempts"]) == ("sent", 2)


async def test_only_files_in_the_config_dir_are_attached(
    hub_factory: HubFactory, receiver: JsonReceiver
) -> None:
    hub = await hub_factory(f"notify:\n  - name: hook\n    urls: {receiver.url()}\n",
                            extra_files={"media/ok.txt": "fine"})
    await hub.services.async_call("notify", "hook", {
        "message": "with files",
        "data": {"attachments": ["media/ok.txt", "/etc/hostname", "media/missing.jpg"]},
    })
    await hub.async_block_till_done()
    [body] = receiver.received
    assert [item["filename"] for item in body["attachments"]] == ["ok.txt"]
    [entry] = await log_of(hub)
    assert entry["status"] == "sent"
    assert any("/etc/hostname refused" in note for note in entry["notes"])
    assert any("media/missing.jpg not found" in note for note in entry["notes"])


async def test_python_api_and_bad_calls(hub_factory: HubFactory, receiver: JsonReceiver) -> None:
    hub = await hub_factory(f"notify:\n  - name: hook\n    urls: {receiver.url()}\n")
    notifier = hub.data["notify"]
    delivery = await notifier.async_send("hook", "from an integration", title="Vibration")
    await hub.async_block_till_done()
    assert delivery.status == "sent"
    assert receiver.received[0]["title"] == "Vibration"
    for bad_call in (
        notifier.async_send("nobody", "x"),
        notifier.async_send("hook", "x", data={"type": "urgent"}),
    ):
        try:
            await bad_call
        except ValueError as err:
            assert "nobody" in str(err) or "type" in str(err)
        else:
            raise AssertionError("a bad call was accepted")
