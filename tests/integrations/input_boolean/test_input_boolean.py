"""input_boolean: flags people set, their services, restore after restart, and reload."""

from __future__ import annotations

import pytest

from plantpulse.core.exceptions import ServiceValidationError

CONFIG = """
input_boolean:
  maintenance_mode:
    name: 检修模式
    icon: mdi:wrench
  night_shift:
  always_armed:
    initial: true
"""


async def test_flags_start_off_and_follow_their_services(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    state = hub.states.get("input_boolean.maintenance_mode")
    assert state.state == "off"
    assert state.attributes == {"friendly_name": "检修模式", "icon": "mdi:wrench"}
    assert hub.states.get("input_boolean.night_shift").state == "off"
    assert hub.states.get("input_boolean.always_armed").state == "on"

    target = {"entity_id": "input_boolean.maintenance_mode"}
    await hub.services.async_call("input_boolean", "turn_on", target)
    assert hub.states.get("input_boolean.maintenance_mode").state == "on"
    await hub.services.async_call("input_boolean", "toggle", target)
    assert hub.states.get("input_boolean.maintenance_mode").state == "off"
    await hub.services.async_call("input_boolean", "toggle", {"entity_id": "all"})
    assert hub.states.get("input_boolean.night_shift").state == "on"
    assert hub.states.get("input_boolean.always_armed").state == "off"
    await hub.services.async_call("input_boolean", "turn_off", {"entity_id": "all"})
    assert {state.state for state in hub.states.all("input_boolean")} == {"off"}


async def test_last_state_returns_after_a_restart_unless_initial_is_set(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await hub.services.async_call("input_boolean", "turn_on", {"entity_id": "all"})
    await hub.services.async_call(
        "input_boolean", "turn_off", {"entity_id": "input_boolean.always_armed"}
    )
    await hub.async_stop()

    again = await hub_factory(CONFIG, config_dir=hub.config_dir)
    assert again.states.get("input_boolean.maintenance_mode").state == "on"
    assert again.states.get("input_boolean.night_shift").state == "on"
    # `initial` is the state at every start, as in Home Assistant.
    assert again.states.get("input_boolean.always_armed").state == "on"


async def test_a_broken_flag_is_reported_and_the_others_run(hub_factory) -> None:
    hub = await hub_factory("""
        input_boolean:
          good:
          bad:
            initial: maybe
          Not A Slug:
            name: x
    """)
    assert hub.states.entity_ids("input_boolean") == ["input_boolean.good"]
    messages = [str(issue) for issue in hub.config_issues]
    assert any("expected a boolean" in text and "line 5" in text for text in messages)
    assert any("invalid slug 'Not A Slug'" in text for text in messages)


async def test_reload_adds_changes_and_removes_flags_keeping_values(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await hub.services.async_call(
        "input_boolean", "turn_on", {"entity_id": "input_boolean.night_shift"}
    )
    (hub.config_dir / "configuration.yaml").write_text(
        "input_boolean:\n"
        "  night_shift:\n"
        "    name: Night shift\n"
        "  pump_test:\n",
        encoding="utf-8",
    )
    await hub.services.async_call("input_boolean", "reload", {})
    assert sorted(hub.states.entity_ids("input_boolean")) == [
        "input_boolean.night_shift", "input_boolean.pump_test",
    ]
    night = hub.states.get("input_boolean.night_shift")
    assert night.state == "on"
    assert night.attributes["friendly_name"] == "Night shift"
    assert hub.entities.get("input_boolean.maintenance_mode") is None


async def test_reload_of_a_broken_file_changes_nothing(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    (hub.config_dir / "configuration.yaml").write_text("input_boolean: [\n", encoding="utf-8")
    with pytest.raises(ServiceValidationError, match="cannot be read"):
        await hub.services.async_call("input_boolean", "reload", {})
    assert len(hub.states.entity_ids("input_boolean")) == 3
