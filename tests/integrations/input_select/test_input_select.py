"""input_select: choosing among options, cycling, replacing options, restore."""

from __future__ import annotations

import pytest

from plantpulse.core.exceptions import ServiceValidationError

CONFIG = """
input_select:
  line_mode:
    name: 产线模式
    options: [生产, 待机, 检修]
  shift:
    options: [A, B, C]
    initial: B
"""

MODE = "input_select.line_mode"


async def call(hub, service: str, **data: object) -> None:
    await hub.services.async_call("input_select", service, {"entity_id": MODE, **data})


def mode(hub) -> str:
    return hub.states.get(MODE).state


async def test_first_option_by_default_initial_when_given(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    assert hub.states.get(MODE).state == "生产"
    assert hub.states.get(MODE).attributes == {
        "options": ["生产", "待机", "检修"], "friendly_name": "产线模式",
    }
    assert hub.states.get("input_select.shift").state == "B"


async def test_select_services_move_through_the_options(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "select_option", option="检修")
    assert mode(hub) == "检修"
    await call(hub, "select_next")
    assert mode(hub) == "生产"
    await call(hub, "select_previous")
    assert mode(hub) == "检修"
    await call(hub, "select_next", cycle=False)
    assert mode(hub) == "检修"
    await call(hub, "select_first")
    await call(hub, "select_previous", cycle=False)
    assert mode(hub) == "生产"
    await call(hub, "select_last")
    assert mode(hub) == "检修"


async def test_unknown_options_are_refused(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    with pytest.raises(ServiceValidationError, match="'停机' is not an option"):
        await call(hub, "select_option", option="停机")
    assert mode(hub) == "生产"


async def test_set_options_keeps_the_choice_when_it_remains(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "select_option", option="待机")
    await call(hub, "set_options", options=["待机", "停机"])
    assert (mode(hub), hub.states.get(MODE).attributes["options"]) == ("待机", ["待机", "停机"])
    await call(hub, "set_options", options=["夜班"])
    assert mode(hub) == "夜班"
    with pytest.raises(ServiceValidationError, match="repeated: a"):
        await call(hub, "set_options", options=["a", "a"])


async def test_restart_restores_the_choice_if_still_an_option(hub_factory) -> None:
    hub = await hub_factory(CONFIG)
    await call(hub, "select_option", option="待机")
    await hub.services.async_call(
        "input_select", "select_option", {"entity_id": "input_select.shift", "option": "C"}
    )
    await hub.async_stop()

    again = await hub_factory(CONFIG, config_dir=hub.config_dir)
    assert mode(again) == "待机"
    assert again.states.get("input_select.shift").state == "B"
    await again.async_stop()

    renamed = await hub_factory(CONFIG.replace("待机", "备用"), config_dir=hub.config_dir)
    assert mode(renamed) == "生产"


async def test_initial_must_be_an_option(hub_factory) -> None:
    hub = await hub_factory("input_select:\n  x:\n    options: [a, b]\n    initial: c\n")
    assert hub.states.entity_ids("input_select") == []
    assert "'initial' (c) is not one of the options: a, b" in str(hub.config_issues[0])
