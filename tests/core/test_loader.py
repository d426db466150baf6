"""The loader: custom integrations, dependency order, isolation of failures, reporting."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import HubFactory

WIDGET_INIT = '''
"""A community integration used by the tests."""
import voluptuous as vol

from plantpulse.core.platforms.sensor import SensorEntity

CONFIG_SCHEMA = vol.Schema({vol.Required("count"): int})
ORDER = []


class Widget(SensorEntity):
    def __init__(self, index):
        self._attr_unique_id = f"widget_{index}"
        self._attr_name = f"Widget {index}"
        self._attr_native_value = index


async def async_setup(hub, config):
    ORDER.append("widget")
    hub.data["order"] = hub.data.get("order", []) + ["widget"]
    await hub.entities.async_add("widget", [Widget(i) for i in range(config["count"])])
    return True
'''

BASE_INIT = '''
"""A dependency of widget."""
async def async_setup(hub, config):
    hub.data["order"] = hub.data.get("order", []) + ["base"]
    return True
'''

BROKEN_INIT = '''
"""Raises during setup."""
async def async_setup(hub, config):
    raise RuntimeError("serial port /dev/ttyUSB9 not found")
'''


def custom(name: str, init: str, manifest: str) -> dict[str, str]:
    return {
        f"custom_integrations/{name}/__init__.py": init,
        f"custom_integrations/{name}/manifest.yaml": manifest,
    }


async def test_custom_integration_with_dependency_and_a_broken_neighbour(
    hub_factory: HubFactory,
) -> None:
    files = {
        **custom("widget", WIDGET_INIT,
                 "domain: widget\nname: Widget\nversion: '1.0'\ndependencies: [base]\n"),
        **custom("base", BASE_INIT, "domain: base\nname: Base\nversion: '1.0'\n"),
        **custom("broken", BROKEN_INIT, "domain: broken\nname: Broken\nversion: '0.1'\n"),
    }
    hub = await hub_factory("widget:\n  count: 2\nbroken:\n", files)
    assert hub.data["order"] == ["base", "widget"]
    assert {"widget", "base"} <= hub.components
    assert "broken" not in hub.components
    assert hub.states.get("sensor.widget_1").state == "1"
    messages = [item.message for item in hub.notifications.all()]
    assert any("'broken' was not set up" in text and "/dev/ttyUSB9" in text for text in messages)


async def test_unknown_integration_and_bad_config_are_reported_with_line(
    hub_factory: HubFactory,
) -> None:
    files = custom("widget", WIDGET_INIT, "domain: widget\nname: Widget\nversion: '1'\n")
    hub = await hub_factory("plantpulse:\n  name: t\nmystery:\n  a: 1\nwidget:\n  count: many\n",
                            files)
    texts = [str(issue) for issue in hub.config_issues]
    assert texts == [
        "Invalid config for 'mystery' (configuration.yaml, line 3): integration 'mystery' "
        "not found",
        "Invalid config for 'widget' (configuration.yaml, line 6): expected int for 'count' "
        "(got 'many') at count",
    ]
    assert "widget" not in hub.components
    assert any(item.notification_id == "invalid_config" for item in hub.notifications.all())


async def test_missing_requirement_and_circular_dependency(hub_factory: HubFactory) -> None:
    files = {
        **custom("needy", BASE_INIT, "domain: needy\nname: Needy\nversion: '1'\n"
                 "requirements: [surely-not-installed-package==9.9]\n"),
        **custom("ping", BASE_INIT, "domain: ping\nname: Ping\nversion: '1'\n"
                 "dependencies: [pong]\n"),
        **custom("pong", BASE_INIT, "domain: pong\nname: Pong\nversion: '1'\n"
                 "dependencies: [ping]\n"),
    }
    hub = await hub_factory("needy:\nping:\n", files)
    assert hub.components.isdisjoint({"needy", "ping", "pong"})
    messages = "\n".join(item.message for item in hub.notifications.all())
    assert "surely-not-installed-package==9.9" in messages
    assert "circular dependency" in messages


async def test_invalid_manifest_is_reported(hub_factory: HubFactory, tmp_path: Path) -> None:
    files = custom("odd", BASE_INIT, "domain: other_name\nname: Odd\nversion: '1'\n")
    hub = await hub_factory("odd:\n", files)
    texts = [issue.message for issue in hub.config_issues]
    assert any("does not match its folder 'odd'" in text for text in texts)
    assert any("integration 'odd' not found" in text for text in texts)


async def test_unreadable_configuration_runs_in_recovery_mode(hub_factory: HubFactory) -> None:
    hub = await hub_factory("plantpulse:\n  name: x\n   bad: indent\n", start=False)
    assert hub.recovery_mode
    assert set(hub.config) == {"http"}
    notification = next(item for item in hub.notifications.all()
                        if item.notification_id == "invalid_config")
    assert notification.title.startswith("configuration.yaml cannot be read")
    assert "line 3" in notification.message


async def test_a_failure_spreads_to_every_dependent(hub_factory: HubFactory) -> None:
    files = {
        **custom("top", BASE_INIT, "domain: top\nname: Top\nversion: '1'\n"
                 "dependencies: [middle]\n"),
        **custom("middle", BASE_INIT, "domain: middle\nname: Middle\nversion: '1'\n"
                 "dependencies: [bottom]\n"),
        **custom("bottom", BROKEN_INIT, "domain: bottom\nname: Bottom\nversion: '1'\n"
                 "requirements: [surely-not-installed-package==1]\n"),
    }
    hub = await hub_factory("top:\n", files)
    assert hub.components.isdisjoint({"top", "middle", "bottom"})
    messages = {item.notification_id: item.message for item in hub.notifications.all()}
    assert "middle failed" in messages["setup_failed_top"]
