"""Notifications on the page (configuration problems first) and entities in the plant's order."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path
from typing import Final

import pytest
from playwright.async_api import Page, expect

from plantpulse.core.auth.const import Role
from plantpulse.core.const import DEFAULT_HTTP_PORT
from tests.conftest import HubFactory, free_port
from tests.frontend.conftest import (
    add_user,
    area_card,
    hub_yaml,
    log_in,
    row,
    screenshot_whole_page,
)

SHARED_SCREENSHOT: Final = Path("/tmp/plantpulse-notifications.png")
PHONE_WIDTH: Final = 390


def config_with_problems(port: int) -> str:
    """A hub whose site time zone (line 3) and demo speed (line 9) are wrong."""
    return f"""\
        plantpulse:
          name: 测试工厂
          time_zone: Mars/Olympus
        http:
          server_host: 127.0.0.1
          server_port: {port}
        demo:
          update_interval: 1
          speed: fast
    """


async def notifications_via_rest(page: Page, port: int) -> list[dict[str, object]]:
    """`GET /api/notifications` with the page's own access token."""
    token = json.loads(await page.evaluate("localStorage.getItem('plantpulse.auth')"))
    answer = await page.request.get(
        f"http://127.0.0.1:{port}/api/notifications",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert answer.ok
    return await answer.json()


def default_port_is_free() -> bool:
    """Whether a hub can serve on the default port, as a hub that lost its config does."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", DEFAULT_HTTP_PORT))
        except OSError:
            return False
    return True


async def test_config_problems_show_above_the_values_and_an_admin_dismisses_them(
    hub_factory: HubFactory, page: Page, tmp_path: Path
) -> None:
    port = free_port()
    hub = await hub_factory(config_with_problems(port))
    await add_user(hub, "sun", "孙主任", Role.ADMIN)

    await log_in(page, port, "sun")

    problem = page.locator("article.notification.is-config-problem")
    await expect(problem.locator(".notification-title")).to_have_text("配置有问题")
    await expect(problem.locator(".notification-lead")).to_contain_text("其余部分照常运行")
    await expect(problem.locator(".notification-hub-title")).to_have_text("Configuration problems")
    # One problem a line, as the hub wrote them, each with its file and line.
    message = problem.locator(".notification-message")
    await expect(message).to_contain_text("(configuration.yaml, line 9): expected float")
    assert (await message.inner_text()).splitlines() == [
        str(issue) for issue in hub.config_issues
    ]
    assert "(configuration.yaml, line 3)" in str(hub.config_issues[0])
    badge = page.locator(".notice-badge")
    await expect(badge.locator(".notice-count")).to_have_text("1")
    await expect(badge).to_have_class(re.compile(r"\bis-config-problem\b"))

    # The rest of the hub runs: the demo plant's values are listed below the problem.
    first_card = page.locator("article.area-card").first
    await expect(first_card).to_be_visible()
    problem_box = await problem.bounding_box()
    card_box = await first_card.bounding_box()
    assert problem_box["y"] + problem_box["height"] <= card_box["y"]
    await screenshot_whole_page(page, tmp_path / "config-problem.png")
    shutil.copyfile(tmp_path / "config-problem.png", SHARED_SCREENSHOT)

    # On a phone the long problem lines wrap: no sideways scrolling.
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    await expect(problem).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    await screenshot_whole_page(page, tmp_path / "config-problem-phone.png")
    await page.set_viewport_size({"width": 1280, "height": 800})

    # English too, the hub's own text unchanged.
    await page.click("button.lang-toggle")
    await expect(problem.locator(".notification-title")).to_have_text(
        "The configuration has problems"
    )
    await expect(problem.locator(".notification-lead")).to_contain_text("the rest of PlantPulse")
    await expect(message).to_contain_text("(configuration.yaml, line 9)")

    await problem.locator("button.notification-dismiss").click()
    await expect(page.locator("article.notification")).to_have_count(0)
    await expect(badge).to_be_hidden()
    assert await notifications_via_rest(page, port) == []
    assert hub.notifications.all() == []


async def test_notifications_arrive_live_and_only_operators_dismiss_them(
    hub_factory: HubFactory, page: Page
) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port, demo=False))
    await add_user(hub, "qian", "钱工", Role.VIEWER)
    await add_user(hub, "wu", "吴班长", Role.OPERATOR)
    hub.states.async_set("sensor.compressor_power", "55.2", {"unit_of_measurement": "kW"})

    await log_in(page, port, "qian")
    await expect(row(page, "sensor.compressor_power").locator(".value")).to_have_text("55.2")
    await expect(page.locator("section.notifications")).to_be_hidden()
    await expect(page.locator(".notice-badge")).to_be_hidden()
    await expect(page.locator(".user-name")).to_have_text("钱工")
    await expect(page.locator(".user-name")).to_have_attribute("title", "钱工，只读用户")

    # Created on the hub while the page is open: it shows without a reload, lines kept.
    await hub.services.async_call("persistent_notification", "create", {
        "title": "巡检提醒", "message": "2 号空压机排气温度偏高\n请在 16:00 前检查冷却器",
        "notification_id": "inspection",
    })
    notice = page.locator('article.notification[data-notification-id="inspection"]')
    await expect(notice.locator(".notification-title")).to_have_text("巡检提醒")
    assert (await notice.locator(".notification-message").inner_text()).splitlines() == [
        "2 号空压机排气温度偏高", "请在 16:00 前检查冷却器",
    ]
    await expect(notice).not_to_have_class(re.compile(r"\bis-config-problem\b"))
    await expect(page.locator(".notice-badge .notice-count")).to_have_text("1")
    # A viewer reads it but may not dismiss it.
    await expect(notice.locator("button")).to_have_count(0)

    # An operator may.
    await page.click("button.logout")
    await log_in(page, port, "wu")
    await notice.locator("button.notification-dismiss").click()
    await expect(notice).to_have_count(0)
    assert await notifications_via_rest(page, port) == []

    # A notification without a title still reads as one; dismissed elsewhere, it goes away.
    hub.notifications.async_create("备用电源切换测试完成", notification_id="ups")
    untitled = page.locator('article.notification[data-notification-id="ups"]')
    await expect(untitled.locator(".notification-title")).to_have_text("通知")
    hub.notifications.async_dismiss("ups")
    await expect(untitled).to_have_count(0)


async def test_unparsable_configuration_is_shown_instead_of_an_empty_page(
    hub_factory: HubFactory, page: Page
) -> None:
    if not default_port_is_free():
        pytest.skip(f"port {DEFAULT_HTTP_PORT} is in use; a hub without config serves there")
    hub = await hub_factory("plantpulse:\n  name: 测试工厂\n   language: en\ndemo:\n")
    assert hub.components == {"http"}
    await add_user(hub, "zhou", "周工", Role.ADMIN)

    await log_in(page, DEFAULT_HTTP_PORT, "zhou")

    problem = page.locator("article.notification.is-config-problem")
    await expect(problem.locator(".notification-lead")).to_contain_text("只运行了网页界面")
    await expect(problem.locator(".notification-hub-title")).to_contain_text(
        "configuration.yaml cannot be read"
    )
    await expect(problem.locator(".notification-message")).to_contain_text(
        "(configuration.yaml, line 3): YAML syntax error"
    )
    await expect(page.locator(".states-view .placeholder")).to_have_text(
        "还没有任何实体：配置有问题，请看上方的说明。"
    )


async def test_empty_hub_says_how_to_get_values(hub_factory: HubFactory, page: Page) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port, demo=False))
    await add_user(hub, "feng", "冯工")

    await log_in(page, port, "feng")

    await expect(page.locator(".states-view .placeholder")).to_contain_text("还没有任何实体。")
    await expect(page.locator(".placeholder-hint")).to_contain_text("configuration.yaml")
    hub.notifications.async_create("Integration 'modbus' was not set up: timeout",
                             title="Integration failed", notification_id="setup_failed_modbus")
    await expect(page.locator(".states-view .placeholder")).to_have_text(
        "还没有任何实体。上方的通知可能说明了原因。"
    )


async def test_entities_keep_the_plants_order(hub_factory: HubFactory, page: Page) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port))
    await add_user(hub, "zheng", "郑工")

    await log_in(page, port, "zheng")

    names = area_card(page, "循环水泵房").locator(".entity-name")
    await expect(names).to_have_count(6)
    devices = [name.split(" ")[0] for name in await names.all_inner_texts()]
    # Devices as the plant lists them (not pinyin order), each device's values together.
    assert devices == ["循环水泵房进线"] * 2 + ["一号循环泵"] * 2 + ["三号循环泵"] * 2


async def test_order_rule_keeps_devices_together_and_unknown_entities_last(
    hub_factory: HubFactory, page: Page
) -> None:
    """The page's own ordering, in the browser, on a registry that interleaves devices."""
    port = free_port()
    await hub_factory(hub_yaml(port, demo=False))
    await page.goto(f"http://127.0.0.1:{port}/onboarding.html")
    ordered = await page.evaluate("""async () => {
        const { inHubOrder } = await import("./views/states.js");
        const registry = new Map([
            ["sensor.pump_3_power", { device_id: "pump_3" }],
            ["sensor.pump_1_power", { device_id: "pump_1" }],
            ["sensor.outdoor", { device_id: null }],
            ["sensor.pump_3_energy", { device_id: "pump_3" }],
            ["sensor.not_shown", { device_id: "pump_1" }],
            ["sensor.pump_1_energy", { device_id: "pump_1" }],
        ]);
        const names = { "sensor.extra_b": "乙表", "sensor.extra_a": "甲表" };
        const store = { registry, nameOf: (id) => names[id] || id };
        return inHubOrder([
            "sensor.extra_b", "sensor.pump_1_energy", "sensor.outdoor", "sensor.extra_a",
            "sensor.pump_3_energy", "sensor.pump_1_power", "sensor.pump_3_power",
        ], store);
    }""")
    assert ordered == [
        "sensor.pump_3_power", "sensor.pump_3_energy",
        "sensor.pump_1_power", "sensor.pump_1_energy",
        "sensor.outdoor",
        "sensor.extra_a", "sensor.extra_b",
    ]


async def test_many_notifications_fold_behind_a_button(
    hub_factory: HubFactory, page: Page
) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port))
    await add_user(hub, "chu", "褚工", Role.OPERATOR)
    for number in range(1, 6):
        hub.notifications.async_create(f"第 {number} 条", title=f"提醒 {number}")

    await log_in(page, port, "chu")

    titles = page.locator("article.notification .notification-title")
    # The newest first, three of five, so the live values stay in sight.
    await expect(titles).to_have_text(["提醒 5", "提醒 4", "提醒 3"])
    fold = page.locator("button.notifications-fold")
    await expect(fold).to_have_text("另外还有 2 条通知")
    await fold.click()
    await expect(titles).to_have_count(5)
    await fold.click()
    await expect(titles).to_have_count(3)

    # The count in the header leads to them from anywhere down the page.
    await page.locator("article.area-card").last.scroll_into_view_if_needed()
    await page.click(".notice-badge")
    await expect(page.locator("section.notifications")).to_be_focused()
    await expect(page.locator("article.notification").first).to_be_in_viewport()
