"""The alarms view against a real hub: live list, badge, acknowledge with a note, clear."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Final

from playwright.async_api import Locator, Page, expect

from plantpulse.core.auth.const import Role
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory, free_port
from tests.frontend.conftest import add_user, hub_yaml, log_in, screenshot_whole_page

SCREENSHOT: Final = Path("/tmp/alarms.png")
PHONE_SCREENSHOT: Final = Path("/tmp/alarms-phone.png")
PHONE_WIDTH: Final = 390


def alarms_yaml(port: int) -> str:
    """A hub serving the page with the alarm integration and no demo plant."""
    return hub_yaml(port, demo=False) + """
        alarm:
    """


async def raise_alarm(hub: Hub, key: str, severity: str, zh: str, en: str,
                      source: str | None = None) -> None:
    """`alarm.raise` as an automation would call it."""
    data = {"key": key, "severity": severity, "message": {"zh-CN": zh, "en": en}}
    if source:
        data["source"] = source
    await hub.services.async_call("alarm", "raise", data)


def alarm_row(page: Page, key: str) -> Locator:
    """The card of the alarm with this key."""
    return page.locator(f'li.alarm[data-key="{key}"]')


async def test_operator_sees_alarms_live_acknowledges_and_clears_them(
    hub_factory: HubFactory, page: Page, tmp_path: Path
) -> None:
    port = free_port()
    hub = await hub_factory(alarms_yaml(port))
    await add_user(hub, "zhang", "张工")
    hub.states.async_set("sensor.pump_1_current", "98.5",
                         {"friendly_name": "一号泵电流", "unit_of_measurement": "A"})
    await raise_alarm(hub, "tank_level_low", "warning", "储罐液位偏低", "Tank level low")
    await raise_alarm(hub, "compressor_hot", "major", "空压机排气温度高", "Compressor outlet hot")

    await log_in(page, port, "zhang")
    nav = page.locator('.views-nav a[data-view="alarms"]')
    badge = nav.locator(".nav-badge")
    await expect(nav).to_contain_text("告警")
    await expect(badge).to_have_text("2")
    await nav.click()
    await expect(page).to_have_url(re.compile(r"#/alarms$"))
    await expect(alarm_row(page, "tank_level_low")).to_have_count(1)

    # Raised while the page is open: it appears on top, newest first, and the badge counts it.
    await raise_alarm(hub, "pump_1_overload", "critical", "一号循环泵过载", "Pump 1 overload",
                      source="sensor.pump_1_current")
    pump = alarm_row(page, "pump_1_overload")
    await expect(pump.locator(".alarm-severity")).to_have_text("严重")
    await expect(pump).to_have_attribute("data-severity", "critical")
    await expect(pump.locator(".alarm-message")).to_have_text("一号循环泵过载")
    await expect(pump.locator(".alarm-state")).to_have_text("告警中")
    await expect(pump.locator('[data-field="source"]')).to_contain_text("一号泵电流")
    await expect(pump.locator('[data-field="source"]')).to_contain_text("sensor.pump_1_current")
    await expect(pump.locator('[data-field="raised"] time')).to_have_text(
        re.compile(r"^\d\d:\d\d:\d\d$")
    )
    await expect(page.locator("li.alarm").first).to_have_attribute("data-key", "pump_1_overload")
    await expect(badge).to_have_text("3")
    await expect(badge).to_have_class(re.compile(r"\bis-urgent\b"))
    await expect(page.locator(".alarms-summary")).to_have_text("3 条告警，3 条未确认")
    await expect(alarm_row(page, "compressor_hot").locator(".alarm-severity")).to_have_text("主要")

    # Raised again while active: counted, not doubled.
    await raise_alarm(hub, "pump_1_overload", "critical", "一号循环泵过载", "Pump 1 overload",
                      source="sensor.pump_1_current")
    await expect(pump.locator(".alarm-count")).to_have_text("2")
    await expect(page.locator("li.alarm")).to_have_count(3)
    stripe = await pump.evaluate("row => getComputedStyle(row).borderLeftColor")
    assert stripe == "rgb(198, 40, 40)"

    # 确认 with a note: the hub records who, the row says so.
    await pump.locator(".alarm-note-input").fill("维修班已到现场")
    await pump.locator("button.alarm-acknowledge").click()
    await expect(pump.locator(".alarm-state")).to_have_text("已确认")
    await expect(pump.locator('[data-field="acknowledged"] .alarm-ack-user')).to_have_text("张工")
    await expect(pump.locator('[data-field="note"]')).to_contain_text("维修班已到现场")
    await expect(pump.locator("button.alarm-acknowledge")).to_be_hidden()
    alarm = hub.data["alarm"].get("pump_1_overload")
    assert str(alarm.state) == "acknowledged"
    assert alarm.acknowledged_by == "zhang"
    assert alarm.note == "维修班已到现场"
    await expect(page.locator(".alarms-summary")).to_have_text("3 条告警，2 条未确认")
    await expect(badge).to_have_class(re.compile(r"\bis-urgent\b"))

    await screenshot_whole_page(page, tmp_path / "alarms.png")
    shutil.copyfile(tmp_path / "alarms.png", SCREENSHOT)

    # English: the alarm's own English message and the English severity word.
    await page.click("button.lang-toggle")
    await expect(pump.locator(".alarm-message")).to_have_text("Pump 1 overload")
    await expect(pump.locator(".alarm-severity")).to_have_text("Critical")
    await expect(pump.locator(".alarm-state")).to_have_text("Acknowledged")
    await expect(alarm_row(page, "tank_level_low").locator(".alarm-severity")).to_have_text(
        "Warning"
    )
    await page.click("button.lang-toggle")

    # 清除: the alarm ends in the hub and leaves the list and the badge.
    await pump.locator("button.alarm-clear").click()
    await expect(pump).to_have_count(0)
    assert hub.data["alarm"].get("pump_1_overload") is None
    assert hub.states.get("alarm.pump_1_overload") is None
    await expect(badge).to_have_text("2")

    # On a phone the cards fit the width.
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    await expect(alarm_row(page, "tank_level_low").locator("button.alarm-clear")).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    await screenshot_whole_page(page, tmp_path / "phone.png")
    shutil.copyfile(tmp_path / "phone.png", PHONE_SCREENSHOT)

    # Cleared elsewhere: the list empties and the badge goes away.
    await hub.services.async_call("alarm", "clear", {"key": "tank_level_low"})
    await hub.data["alarm"].async_clear("compressor_hot")
    await expect(page.locator("li.alarm")).to_have_count(0)
    await expect(page.locator(".alarms-view .placeholder")).to_have_text("当前没有告警。")
    await expect(badge).to_be_hidden()


async def test_viewer_sees_alarms_without_the_buttons(
    hub_factory: HubFactory, page: Page
) -> None:
    port = free_port()
    hub = await hub_factory(alarms_yaml(port))
    await add_user(hub, "qian", "钱工", Role.VIEWER)
    await raise_alarm(hub, "door_open", "minor", "配电室门未关", "Switch room door open")

    await log_in(page, port, "qian")
    await page.goto(f"http://127.0.0.1:{port}/#/alarms")
    door = alarm_row(page, "door_open")
    await expect(door.locator(".alarm-severity")).to_have_text("次要")
    await expect(door.locator(".alarm-message")).to_have_text("配电室门未关")
    await expect(door.locator(".alarm-actions")).to_be_hidden()
    await expect(page.locator(".alarms-hint")).to_contain_text("只读用户")


async def test_no_alarm_integration_no_nav_entry(hub_factory: HubFactory, page: Page) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port, demo=False))
    await add_user(hub, "li", "李工")
    hub.states.async_set("sensor.flow", "3", {"unit_of_measurement": "m³/h"})

    await log_in(page, port, "li")
    await expect(page.locator('li.entity[data-entity-id="sensor.flow"]')).to_have_count(1)
    await expect(page.locator(".views-nav")).to_have_count(0)
    await page.goto(f"http://127.0.0.1:{port}/#/alarms")
    await expect(page.locator(".alarms-view .placeholder")).to_contain_text("没有启用告警")
