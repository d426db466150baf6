"""input_number: a threshold people set, bounded services, HA's state format, restore."""

from __future__ import annotations

import pytest

from plantpulse.core.exceptions import ServiceValidationError

CONFIG = """
input_number:
  night_limit:
    name: 夜间基荷限值
    min: 0
    max: 100
    step: 0.5
    mode: box
    unit_of_measurement: kW
  fan_speed:
    min: 10
    max: 50
  target_temp:
    min: 15
    max: 30
    step: 0.1
    initial: 22
"""

LIMIT = "input_number.night_limit"


async def call(hub, service: str, entity_id: str, **data: object) -> None:
    await hub.services.async_call("input_number", service, {"entity_id": entity_id, **data})


async def test_state_is_a_float_string_with_the_number_attributes(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    state = hub.states.get(LIMIT)
    assert state.state == "0.0"
    assert state.attributes == {
        "min": 0.0, "max": 100.0, "step": 0.5, "mode": "box",
        "unit_of_measurement": "kW", "friendly_name": "夜间基荷限值",
    }
    assert hub.states.get("input_number.fan_speed").state == "10.0"
    assert hub.states.get("input_number.fan_speed").attributes["mode"] == "slider"
    assert hub.states.get("input_number.target_temp").state == "22.0"

    await call(hub, "set_value", LIMIT, value=47)
    assert hub.states.get(LIMIT).state == "47.0"
    await call(hub, "set_value", LIMIT, value="42.5")
    assert hub.states.get(LIMIT).state == "42.5"


async def test_increment_and_decrement_stop_at_the_bounds(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "set_value", LIMIT, value=99.5)
    await call(hub, "increment", LIMIT)
    assert hub.states.get(LIMIT).state == "100.0"
    await call(hub, "increment", LIMIT)
    assert hub.states.get(LIMIT).state == "100.0"
    await call(hub, "decrement", LIMIT)
    assert hub.states.get(LIMIT).state == "99.5"
    await call(hub, "set_value", LIMIT, value=0.5)
    await call(hub, "decrement", LIMIT)
    await call(hub, "decrement", LIMIT)
    assert hub.states.get(LIMIT).state == "0.0"


async def test_fine_steps_leave_no_float_noise(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    for _ in range(3):
        await call(hub, "increment", "input_number.target_temp")
    assert hub.states.get("input_number.target_temp").state == "22.3"


async def test_values_outside_the_range_are_refused(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    with pytest.raises(ServiceValidationError, match=r"150.0 is outside 0\.0\.\.100\.0"):
        await call(hub, "set_value", LIMIT, value=150)
    with pytest.raises(ServiceValidationError, match="expected float"):
        await call(hub, "set_value", LIMIT, value="high")
    assert hub.states.get(LIMIT).state == "0.0"


async def test_restart_restores_the_value_unless_initial_is_set(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "set_value", LIMIT, value=47)
    await call(hub, "set_value", "input_number.target_temp", value=25)
    await hub.async_stop()

    again = await hub_factory(CONFIG, config_dir=hub.config_dir)
    assert again.states.get(LIMIT).state == "47.0"
    assert again.states.get("input_number.target_temp").state == "22.0"


async def test_a_restored_value_outside_a_new_range_falls_back_to_min(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "set_value", LIMIT, value=80)
    await hub.async_stop()

    narrower = CONFIG.replace("max: 100", "max: 60")
    again = await hub_factory(narrower, config_dir=hub.config_dir)
    assert again.states.get(LIMIT).state == "0.0"


async def test_reload_clamps_the_value_into_the_new_range(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "set_value", LIMIT, value=80)
    (hub.config_dir / "configuration.yaml").write_text(
        CONFIG.replace("max: 100", "max: 60"), encoding="utf-8"
    )
    await hub.services.async_call("input_number", "reload", {})
    state = hub.states.get(LIMIT)
    assert (state.state, state.attributes["max"]) == ("60.0", 60.0)


@pytest.mark.parametrize(("settings", "message"), [
    ("min: 10\n    max: 5", "'min' (10) must be less than 'max' (5)"),
    ("min: 0\n    max: 5\n    initial: 9", "'initial' (9) must be between min and max"),
    ("min: 0\n    max: 5\n    step: 0", "must be greater than 0"),
    ("min: 0\n    max: 5\n    mode: dial", "must be slider or box"),
    ("max: 5", "required key 'min' is missing"),
])
async def test_bad_settings_name_the_problem(hub_factory, settings: str, message: str) -> None:
    hub = await hub_factory(f"input_number:\n  broken:\n    {settings}\n  fine:\n    min: 0\n"
                            "    max: 1\n")
    assert hub.states.entity_ids("input_number") == ["input_number.fine"]
    assert any(message in str(issue) for issue in hub.config_issues), hub.config_issues
