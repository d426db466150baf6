"""Browser fixtures: one headless Debian Chromium per test module, a fresh page per test.

Tests run in the event loop of their hub (pytest-asyncio gives each test its own loop), so the
browser is a separate Chromium process started once per module, and each test attaches to it
over the DevTools protocol with its own Playwright driver. Nothing is ever downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest
from playwright.async_api import ConsoleMessage, Locator, Page, async_playwright

from plantpulse.core.auth.audit import Actor
from plantpulse.core.auth.const import Role
from plantpulse.core.hub import Hub

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
)
STARTUP_TIMEOUT: Final = 30.0
# Console errors the browser itself logs for answers the page expects and handles: a refused
# login (400/429) and a WebSocket that cannot connect while the hub restarts.
EXPECTED_CONSOLE_ERRORS: Final = re.compile(
    r"Failed to load resource: the server responded with a status of (400|401|403|429)"
    r"|WebSocket connection to .* failed"
)

PASSWORD: Final = "correct horse 42"


def hub_yaml(port: int, *, language: str = "zh-CN", demo: bool = True) -> str:
    """Configuration of a hub serving the page on 127.0.0.1:`port`, with the demo plant."""
    text = f"""
        plantpulse:
          name: 测试工厂
          language: {language}
        http:
          server_host: 127.0.0.1
          server_port: {port}
    """
    if demo:
        text += """
        demo:
          update_interval: 1
    """
    return text


async def add_user(hub: Hub, username: str, name: str, role: Role = Role.OPERATOR) -> None:
    """Create a user with PASSWORD through the running hub's auth manager."""
    await hub.data["auth"].async_create_user(
        Actor("test"), username, PASSWORD, role, name
    )


async def log_in(page: Page, port: int, username: str, password: str = PASSWORD) -> None:
    """Open the page and submit the login form."""
    await page.goto(f"http://127.0.0.1:{port}/")
    await page.fill("#login-username", username)
    await page.fill("#login-password", password)
    await page.click("form.login-card button[type=submit]")


async def screenshot_whole_page(page: Page, path: Path) -> None:
    """Screenshot all of the page by making the window as tall as the page.

    (Playwright's `full_page` keeps the scrollbar's width out of the picture after the page
    was laid out without one, which cuts off the right edge.)
    """
    size = page.viewport_size
    height = await page.evaluate("document.documentElement.scrollHeight")
    await page.set_viewport_size({"width": size["width"], "height": height})
    await page.screenshot(path=path)
    await page.set_viewport_size(size)


def row(page: Page, entity_id: str) -> Locator:
    """The list row of one entity."""
    return page.locator(f'li.entity[data-entity-id="{entity_id}"]')


def area_card(page: Page, title: str) -> Locator:
    """The card of the area (or "其他"/"Other") with this exact title."""
    return page.locator("article.area-card").filter(
        has=page.locator(".area-name", has_text=re.compile(f"^{re.escape(title)}$"))
    )


@pytest.fixture(scope="module")
def chromium_endpoint() -> Iterator[str]:
    """Start Debian's Chromium once for the module; yield its DevTools WebSocket URL."""
    if not CHROMIUM.exists():
        reason = (
            "/usr/bin/chromium is missing. Install it with "
            "`apt-get install -y chromium fonts-wqy-microhei` (`make test` does so as root)."
        )
        if os.environ.get("PLANTPULSE_REQUIRE_TEST_DEBS") == "1":
            pytest.fail(f"BROWSER MISSING although make test installs it: {reason}")
        pytest.skip(f"BROWSER TESTS SKIPPED: {reason}")
    profile = Path(tempfile.mkdtemp(prefix="plantpulse-chromium-"))
    process = subprocess.Popen(
        [str(CHROMIUM), *CHROMIUM_ARGS, "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        yield _devtools_url(process, profile / "DevToolsActivePort")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(process: subprocess.Popen[bytes], port_file: Path) -> str:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Chromium exited at start with code {process.returncode}")
        lines = port_file.read_text().splitlines() if port_file.exists() else []
        if len(lines) == 2:
            return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    pytest.fail(f"Chromium did not open its DevTools port within {STARTUP_TIMEOUT:.0f} s")


@dataclass
class BrowserLog:
    """What the page reported: uncaught exceptions and console errors."""

    exceptions: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def unexpected(self) -> list[str]:
        """Exceptions and console errors other than the answers the page handles itself."""
        errors = [text for text in self.console_errors if not EXPECTED_CONSOLE_ERRORS.search(text)]
        return self.exceptions + errors


@pytest.fixture
def browser_log() -> BrowserLog:
    """The page's errors; the `page` fixture fails the test if any was unexpected."""
    return BrowserLog()


@pytest.fixture
async def page(chromium_endpoint: str, browser_log: BrowserLog) -> AsyncIterator[Page]:
    """A new page in a fresh browser context (empty localStorage) of the module's Chromium."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.connect_over_cdp(chromium_endpoint)
        context = await browser.new_context(
            viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(10_000)
        tab = await context.new_page()
        tab.on("console", browser_log.on_console)
        tab.on("pageerror", lambda error: browser_log.exceptions.append(str(error)))
        try:
            yield tab
        finally:
            await context.close()
            await browser.close()
    assert not browser_log.unexpected(), f"errors in the page: {browser_log.unexpected()}"
