"""The first page against a real hub: login, the live list by area, onboarding, reconnects."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Final

import pytest
from playwright.async_api import Page, expect

from plantpulse.core.auth.const import Role
from plantpulse.core.hub import Hub
from tests.conftest import HubFactory, free_port
from tests.frontend.conftest import (
    PASSWORD,
    add_user,
    area_card,
    hub_yaml,
    log_in,
    row,
    screenshot_whole_page,
)

SHARED_SCREENSHOT: Final = Path("/tmp/plantpulse-first-page.png")
PHONE_WIDTH: Final = 390


async def test_login_shows_live_entities_grouped_by_area(
    hub_factory: HubFactory, page: Page, tmp_path: Path
) -> None:
    port = free_port()
    hub: Hub = await hub_factory(hub_yaml(port))
    await add_user(hub, "zhang", "张工")
    hub.states.async_set("sensor.outdoor_temperature", "21.456789",
                         {"friendly_name": "室外温度", "unit_of_measurement": "°C"})

    await log_in(page, port, "zhang")

    # Every demo meter sits in its device's area; the card title is the area's name.
    power = next(
        state for state in hub.states.all("sensor")
        if state.attributes.get("unit_of_measurement") == "kW"
    )
    area = hub.area_registry.get(hub.entities.area_of(hub.entities.get(power.entity_id)))
    card = area_card(page, area.name)
    await expect(card.locator(row(page, power.entity_id))).to_have_count(1)
    await expect(row(page, power.entity_id).locator(".unit")).to_have_text("kW")
    await expect(row(page, power.entity_id).locator(".entity-name")).to_have_text(
        power.attributes["friendly_name"]
    )
    await expect(page.locator(".sim-badge")).to_be_visible()
    await expect(page.locator(".sim-badge")).to_have_text("模拟数据")
    await expect(page.locator(".connection")).to_have_attribute("data-status", "connected")

    # A sensor without an area goes under 其他, rounded to a readable precision.
    outdoor = area_card(page, "其他").locator(row(page, "sensor.outdoor_temperature"))
    await expect(outdoor.locator(".value")).to_have_text("21.46")
    await expect(outdoor.locator(".unit")).to_have_text("°C")
    updated = outdoor.locator(".entity-updated")
    await expect(updated).to_have_text(re.compile(r"^更新于 \d\d:\d\d:\d\d$"))

    # Changes arrive over the WebSocket without a reload.
    hub.states.async_set("sensor.outdoor_temperature", "unavailable",
                         {"friendly_name": "室外温度", "unit_of_measurement": "°C"})
    await expect(outdoor).to_have_class(re.compile(r"\bis-unavailable\b"))
    await expect(outdoor.locator(".value")).to_have_text("不可用")
    hub.states.async_set("sensor.outdoor_temperature", "1234.5",
                         {"friendly_name": "室外温度", "unit_of_measurement": "°C"})
    await expect(outdoor.locator(".value")).to_have_text("1,234.5")
    await expect(outdoor).not_to_have_class(re.compile(r"\bis-unavailable\b"))

    await screenshot_whole_page(page, tmp_path / "live-list.png")
    shutil.copyfile(tmp_path / "live-list.png", SHARED_SCREENSHOT)

    # The toggle switches to English and back, live.
    await page.click("button.lang-toggle")
    await expect(area_card(page, "Other")).to_have_count(1)
    await expect(page.locator(".sim-badge")).to_have_text("Simulated data")
    await page.click("button.lang-toggle")
    await expect(area_card(page, "其他")).to_have_count(1)

    # On a phone the list fits the width: no sideways scrolling.
    await page.set_viewport_size({"width": PHONE_WIDTH, "height": 844})
    await expect(outdoor).to_be_visible()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    await screenshot_whole_page(page, tmp_path / "phone.png")


async def test_wrong_password_shows_an_error(hub_factory: HubFactory, page: Page) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port, demo=False))
    await add_user(hub, "li", "李工")

    await log_in(page, port, "li", "not the password")

    await expect(page.locator(".form-error")).to_have_text("用户名或密码错误。")
    await expect(page.locator("#login-username")).to_have_value("li")
    assert await page.evaluate("localStorage.getItem('plantpulse.auth')") is None


async def test_session_refreshes_and_logs_out(hub_factory: HubFactory, page: Page) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port, language="en", demo=False))
    await add_user(hub, "wang", "Wang", Role.VIEWER)
    hub.states.async_set("sensor.flow", "3", {"unit_of_measurement": "m³/h"})

    await log_in(page, port, "wang")
    # The site speaks English, so the page does too.
    await expect(area_card(page, "Other").locator(row(page, "sensor.flow"))).to_have_count(1)
    await expect(page.locator(".connection-label")).to_have_text("Connected")

    # An access token close to expiry is refreshed with the refresh token before it lapses.
    stored = json.loads(await page.evaluate("localStorage.getItem('plantpulse.auth')"))
    stored["expires"] = await page.evaluate("Date.now()") + 5_000
    await page.evaluate("value => localStorage.setItem('plantpulse.auth', value)",
                        json.dumps(stored))
    await page.reload()
    await page.wait_for_function(
        "soon => JSON.parse(localStorage.getItem('plantpulse.auth')).expires > soon + 60000",
        arg=stored["expires"],
    )
    await expect(row(page, "sensor.flow").locator(".value")).to_have_text("3")

    # Logging out forgets the tokens and revokes the session on the hub.
    await page.click("button.logout")
    await expect(page.locator("#login-username")).to_be_visible()
    assert await page.evaluate("localStorage.getItem('plantpulse.auth')") is None
    answer = await page.request.post(
        f"http://127.0.0.1:{port}/auth/token",
        form={"grant_type": "refresh_token", "refresh_token": stored["refresh_token"]},
    )
    assert answer.status == 400


async def test_page_reconnects_when_the_hub_restarts(
    hub_factory: HubFactory, page: Page, tmp_path: Path
) -> None:
    port = free_port()
    config_dir = tmp_path / "restarting"
    hub = await hub_factory(hub_yaml(port, demo=False), config_dir=config_dir)
    await add_user(hub, "zhao", "赵工")
    hub.states.async_set("sensor.pressure", "0.61", {"unit_of_measurement": "MPa"})
    await log_in(page, port, "zhao")
    await expect(row(page, "sensor.pressure").locator(".value")).to_have_text("0.61")

    await hub.async_stop()
    await expect(page.locator(".connection")).to_have_attribute("data-status", "reconnecting")
    await expect(page.locator(".connection-label")).to_contain_text("秒后重连")

    restarted = await hub_factory(hub_yaml(port, demo=False), config_dir=config_dir)
    restarted.states.async_set("sensor.pressure", "0.64", {"unit_of_measurement": "MPa"})
    await expect(page.locator(".connection")).to_have_attribute(
        "data-status", "connected", timeout=20_000
    )
    await expect(row(page, "sensor.pressure").locator(".value")).to_have_text("0.64")
    restarted.states.async_set("sensor.pressure", "0.66", {"unit_of_measurement": "MPa"})
    await expect(row(page, "sensor.pressure").locator(".value")).to_have_text("0.66")


async def test_onboarding_with_the_printed_code_creates_the_owner(
    hub_factory: HubFactory, page: Page, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    hub = await hub_factory(hub_yaml(port))
    printed = capsys.readouterr().out
    url = re.search(r"http://127\.0\.0\.1:\d+/onboarding\.html\?code=\S+", printed).group(0)

    async def fill_in(confirmation: str) -> None:
        await page.fill("#onboarding-name", "陈厂长")
        await page.fill("#onboarding-username", "chen")
        await page.fill("#onboarding-password", PASSWORD)
        await page.fill("#onboarding-confirm", confirmation)
        await page.click("form.onboarding-card button[type=submit]")

    await page.goto(url.replace("code=", "code=not"))
    await fill_in(PASSWORD)
    await expect(page.locator(".form-error")).to_have_text(re.compile("^初始化代码无效或已被使用"))

    await page.goto(url)
    await fill_in(PASSWORD + "x")
    await expect(page.locator(".form-error")).to_have_text("两次输入的密码不一致。")
    await fill_in(PASSWORD)

    await expect(page).to_have_url(f"http://127.0.0.1:{port}/")
    await expect(page.locator("article.area-card").first).to_be_visible()
    owner = hub.data["auth"].data.user_by_username("chen")
    assert owner is not None and owner.is_owner and owner.name == "陈厂长"

    await page.goto(url)
    await expect(page.locator(".form-ok")).to_have_text("初始化已经完成。")
    await expect(page.locator("a.to-login")).to_have_attribute("href", "./")


async def test_values_read_well_and_compressed_updates_apply(
    hub_factory: HubFactory, page: Page
) -> None:
    """The page's own modules, in the browser: number formatting and the compressed format."""
    port = free_port()
    await hub_factory(hub_yaml(port, demo=False))
    await page.goto(f"http://127.0.0.1:{port}/onboarding.html")
    shown = await page.evaluate("""async (cases) => {
        const { formatState } = await import("./lib/format.js");
        return cases.map(([state, attributes, entity_id]) => {
            const { text, unit } = formatState({ entity_id, state, attributes });
            return [text, unit];
        });
    }""", [
        ["21.456789", {"unit_of_measurement": "°C"}],
        ["12.50", {"unit_of_measurement": "kW"}],
        ["16967970.914", {"unit_of_measurement": "kWh"}],
        ["0.000123456", {}],
        ["3.14159", {"suggested_display_precision": 1}],
        ["-7", {"unit_of_measurement": "Pa"}],
        ["on", {}],
        ["unknown", {"unit_of_measurement": "kW"}],
        ["unavailable", {"unit_of_measurement": "kW"}],
        ["运行中", {}],
        ["active", {}, "alarm.pump_overload"],
        ["acknowledged", {}, "alarm.pump_overload"],
        ["active", {}, "timer.rinse"],
        ["active", {}, "sensor.mode"],
    ])
    assert shown == [
        ["21.46", "°C"], ["12.50", "kW"], ["16,967,970.914", "kWh"], ["0.0001235", ""],
        ["3.1", ""], ["-7", "Pa"], ["开", ""], ["未知", ""], ["不可用", ""], ["运行中", ""],
        ["告警中", ""], ["已确认", ""], ["计时中", ""], ["active", ""],
    ]

    states = await page.evaluate("""async () => {
        const { Store } = await import("./lib/store.js");
        const store = new Store();
        store.applyEntityEvent({ a: {
            "sensor.a": { s: "1", a: { unit_of_measurement: "kW", mode: "auto" }, c: "x", lc: 100 },
            "sensor.b": { s: "on", a: {}, c: "y", lc: 100, lu: 150 },
        } }, { replace: true });
        store.applyEntityEvent({ c: {
            "sensor.a": { "+": { s: "2", lc: 200, a: { unit_of_measurement: "MW" } },
                          "-": { a: ["mode"] } },
            "sensor.b": { "+": { lu: 300 } },
        } });
        const changed = [...store.states.values()];
        store.applyEntityEvent({ r: ["sensor.b"] });
        return { changed, left: [...store.states.keys()] };
    }""")
    assert states["changed"] == [
        {
            "entity_id": "sensor.a", "state": "2", "attributes": {"unit_of_measurement": "MW"},
            "last_changed": 200, "last_updated": 200, "context": {"id": "x"},
        },
        {
            "entity_id": "sensor.b", "state": "on", "attributes": {},
            "last_changed": 100, "last_updated": 300, "context": {"id": "y"},
        },
    ]
    assert states["left"] == ["sensor.a"]
