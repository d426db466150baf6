"""Meter balance on a tree like the demo plant's: each parent reads the sum of its children
plus its line and transformer loss (1.2-2.5 %), imported into hourly statistics; the
`energy.balance` service gives the losses, and the daily check raises an alarm for a node
over its tolerance on the hub clock and clears it when a later day is back within.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.hub import Hub
from plantpulse.core.recorder import get_recorder
from plantpulse.core.recorder.statistics_import import ImportRow, async_import
from plantpulse.integrations.demo.plant import METERS, Kind

SHANGHAI = ZoneInfo("Asia/Shanghai")
TREE = [meter for meter in METERS if meter.kind is Kind.ELECTRICITY]
LOSSES = {meter.key: meter.loss for meter in TREE if meter.profile is None}
LEAVES = [meter.key for meter in TREE if meter.profile is not None]


def children(key: str) -> list[str]:
    return [meter.key for meter in TREE if meter.parent == key]


def node_yaml(key: str, indent: int) -> str:
    pad = " " * indent
    text = f"{pad}- id: {key}\n{pad}  entity: sensor.{key}_kwh\n"
    below = children(key)
    if below:
        text += f"{pad}  children:\n" + "".join(node_yaml(child, indent + 4)
                                                for child in below)
    return text


def config(balance: str) -> str:
    return ("plantpulse:\n  time_zone: Asia/Shanghai\n  language: zh-CN\nrecorder:\nalarm:\n"
            f"energy:\n  balance:\n{balance}  meters:\n" + node_yaml("main", 4))


def hourly(day: date, losses: dict[str, float]) -> dict[str, list[float]]:
    """kWh per hour of `day` for every meter: leaves vary by hour, parents add their loss."""
    values: dict[str, list[float]] = {}
    for index, key in enumerate(LEAVES):
        values[key] = [40.0 + 15 * index + 20 * math.sin((hour + index) / 3.0) ** 2
                       for hour in range(24)]

    def fill(key: str) -> list[float]:
        if key not in values:
            parts = [fill(child) for child in children(key)]
            values[key] = [sum(hour) * (1 + losses[key]) for hour in zip(*parts, strict=True)]
        return values[key]

    fill("main")
    return values


def rows_of(day: date, values: dict[str, list[float]]) -> list[ImportRow]:
    midnight = datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)
    return [ImportRow(f"sensor.{key}_kwh", midnight + timedelta(hours=hour + 1), amount,
                      "interval")
            for key, amounts in values.items() for hour, amount in enumerate(amounts)]


async def load(hub: Hub, day: date, losses: dict[str, float]) -> dict[str, list[float]]:
    values = hourly(day, losses)
    recorder = get_recorder(hub)
    assert recorder is not None
    # Each interval series needs the hour before its first row: import from the day before.
    await async_import(recorder, rows_of(day, values), unit="kWh")
    return values


HubFactory = Callable[..., Awaitable[Hub]]


async def test_losses_of_the_demo_tree_per_day_and_hour(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config("    tolerance: 3\n"))
    assert not hub.config_issues, hub.config_issues
    day = date(2026, 3, 1)
    values = await load(hub, day, LOSSES)

    result = await hub.services.async_call("energy", "balance",
                                           {"period": "day", "date": "2026-03"},
                                           return_response=True)
    nodes = result["nodes"]
    assert set(nodes) == set(LOSSES)
    for key, loss in LOSSES.items():
        entry = nodes[key]
        parent = sum(values[key])
        below = sum(sum(values[child]) for child in children(key))
        assert entry["children_nodes"] == children(key)
        assert entry["parent"] == pytest.approx(parent, abs=1e-6)
        assert entry["children"] == pytest.approx(below, abs=1e-6)
        assert entry["loss"] == pytest.approx(parent - below, abs=1e-6)
        # The parent reads (1 + loss) times its children: loss / (1 + loss) of its reading.
        assert entry["loss_pct"] == pytest.approx(loss / (1 + loss) * 100, abs=1e-3)
        assert 1.1 < entry["loss_pct"] < 2.5
        assert entry["over_tolerance"] is False and entry["tolerance_pct"] == 3
        [first] = [row for row in entry["rows"] if row["label"] == "2026-03-01"]
        assert first["complete"] is True and first["loss"] == pytest.approx(parent - below)
        empty = entry["rows"][1]
        assert (empty["label"], empty["complete"], empty["loss_pct"]) == ("2026-03-02", False,
                                                                          None)
    assert len(nodes["main"]["rows"]) == 31

    hours = await hub.services.async_call(
        "energy", "balance", {"node": "pump_house", "period": "hour", "date": "2026-03-01"},
        return_response=True)
    rows = hours["nodes"]["pump_house"]["rows"]
    assert [row["label"] for row in rows[:2]] == ["00:00", "01:00"] and len(rows) == 24
    for hour, row in enumerate(rows):
        assert row["parent"] == pytest.approx(values["pump_house"][hour], abs=1e-6)
        assert row["loss_pct"] == pytest.approx(1.2 / 101.2 * 100, abs=1e-3)


async def test_bad_requests_say_what_to_give(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config("    tolerance: 3\n"))
    for data, words in (({"node": "mill", "date": "2026-03"}, "no child meters"),
                        ({"period": "month", "date": "2026-03"}, "longer range"),
                        ({"date": "2026/03"}, "written like 2026-03"),
                        ({"date": "March"}, "YYYY-MM-DD, YYYY-MM or YYYY")):
        with pytest.raises(ServiceValidationError, match=words):
            await hub.services.async_call("energy", "balance", data, return_response=True)


async def test_bad_balance_config_names_the_node(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config("    nodes: {workshop_9: 2}\n"))
    assert any("workshop_9" in str(issue) for issue in hub.config_issues), hub.config_issues


async def test_daily_check_raises_and_clears_the_alarm(hub_factory: HubFactory) -> None:
    # 2026-03-02 00:00 in Shanghai; the check runs at 00:30 local for the day just closed.
    clock = ManualClock(datetime(2026, 3, 1, 16, 0, tzinfo=UTC))
    hub = await hub_factory(config('    nodes: {workshop_1: 1.5}\n    check_at: "00:30"\n'),
                            clock=clock)
    assert not hub.config_issues, hub.config_issues
    await load(hub, date(2026, 3, 1), LOSSES)
    alarms = hub.data["alarm"]

    await clock.advance(29 * 60)
    assert alarms.get("energy_balance_workshop_1") is None
    await clock.advance(60)
    await hub.async_block_till_done()
    alarm = alarms.get("energy_balance_workshop_1")
    assert alarm is not None, [item.key for item in alarms.active()]
    assert [item.key for item in alarms.active()] == ["energy_balance_workshop_1"]
    assert alarm.source == "sensor.workshop_1_kwh"
    assert alarm.data["loss_pct"] == pytest.approx(1.8 / 101.8 * 100, abs=1e-3)
    assert alarm.data["date"] == "2026-03-01" and alarm.data["tolerance_pct"] == 1.5
    assert "1.77%" in alarm.messages["zh-CN"] and "超过允许的 1.5%" in alarm.messages["zh-CN"]

    # The next day workshop 1 loses only 1 %: the check after midnight clears the alarm.
    await load(hub, date(2026, 3, 2), {**LOSSES, "workshop_1": 0.01})
    await clock.advance_to(datetime(2026, 3, 2, 16, 31, tzinfo=UTC))
    await hub.async_block_till_done()
    assert alarms.get("energy_balance_workshop_1") is None
    assert alarms.active() == []


def test_a_remainder_child_is_left_out_of_the_balance() -> None:
    """`rest = main - press` is the remainder by construction: with it the loss is always 0."""
    from plantpulse.integrations.energy.balance import balanced_nodes
    from plantpulse.integrations.energy.config import CONFIG_SCHEMA

    energy = CONFIG_SCHEMA({"meters": [{
        "id": "main", "level": "site", "entity": "sensor.main_kwh", "children": [
            {"id": "press", "level": "line", "entity": "sensor.press_kwh"},
            {"id": "paint", "level": "line", "entity": "sensor.paint_kwh"},
            {"id": "rest", "level": "line", "virtual": {"difference": ["main", "press"]}},
        ]}]})
    assert balanced_nodes(energy) == {"main": ["press", "paint"]}
