"""The demo plant running in a hub: names, units, live updates, totals, speed, stop, restart."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from plantpulse.core.bootstrap import BUNDLED_CONFIG, site_from_raw
from plantpulse.core.config.load import read_config_dir
from plantpulse.core.const import EVENT_STATE_BACKFILLED, EVENT_STATE_CHANGED
from plantpulse.core.events import Event
from plantpulse.core.hub import Hub
from plantpulse.core.loader import prepare_setup
from plantpulse.core.recorder import get_recorder
from plantpulse.core.states import State
from plantpulse.integrations.demo import CONFIG_SCHEMA
from plantpulse.integrations.demo.const import HOUR, MAX_SPEED, MAX_UPDATE_INTERVAL, MINUTE
from plantpulse.integrations.demo.history import FillPlan, async_fill
from plantpulse.integrations.demo.runner import PlantRunner
from plantpulse.integrations.demo.simulation import (
    PlantSimulation,
    Rates,
    add_trapezoid,
    integrate,
    time_grid,
)
from tests.conftest import HubFactory, LoopStallMeter

SITE = """
plantpulse:
  name: 测试工厂
  time_zone: Asia/Shanghai
  language: {language}
"""


def config(language: str = "zh-CN", **demo: object) -> str:
    """A configuration with only the site and the demo plant."""
    lines = [f"  {key}: {value}" for key, value in demo.items()]
    return SITE.format(language=language) + "demo:\n" + "\n".join(lines) + "\n"


def runner_of(hub: Hub) -> PlantRunner:
    return hub.data["demo"]


def demo_states(hub: Hub) -> list:
    return [state for state in hub.states.all() if state.entity_id.startswith("sensor.")]


async def test_chinese_names_units_devices_and_areas(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(update_interval=60))
    power = hub.states.get("sensor.yi_hao_xun_huan_beng_gong_lv")
    assert power is not None
    assert power.attributes["unit_of_measurement"] == "kW"
    assert power.attributes["device_class"] == "power"
    assert power.attributes["state_class"] == "measurement"
    assert power.attributes["friendly_name"] == "一号循环泵 功率"
    assert 550 < float(power.state) < 650
    energy = hub.states.get("sensor.yi_hao_xun_huan_beng_dian_liang")
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["device_class"] == "energy"
    expected_units = {
        "sensor.zong_jin_xian_gong_lv": "kW",
        "sensor.san_hao_xun_huan_beng_gong_lv": "kW",
        "sensor.yi_hao_li_mo_gong_lv": "kW",
        "sensor.li_mo_yin_feng_ji_gong_lv": "kW",
        "sensor.yang_ji_yang_hua_xian_gong_lv": "kW",
        "sensor.tian_ran_qi_zong_biao_yong_liang": "m³",
        "sensor.tian_ran_qi_zong_biao_liu_liang": "m³/h",
        "sensor.zi_lai_shui_zong_biao_yong_liang": "m³",
        "sensor.yi_hao_fen_mo_xian_chan_liang": "t",
    }
    for entity_id, unit in expected_units.items():
        assert hub.states.get(entity_id).attributes["unit_of_measurement"] == unit, entity_id
    assert hub.states.get("sensor.tian_ran_qi_zong_biao_yong_liang").attributes[
        "device_class"] == "gas"
    assert hub.states.get("sensor.zi_lai_shui_zong_biao_yong_liang").attributes[
        "device_class"] == "water"

    states = demo_states(hub)
    assert all(state.attributes["simulated"] is True for state in states)
    power_meters = [state for state in states if state.attributes["device_class"] == "power"]
    assert len(power_meters) >= 12

    entry = hub.entity_registry.get("sensor.yi_hao_xun_huan_beng_gong_lv")
    assert entry.unique_id == "demo_pump_1_power"
    device = hub.device_registry.get(entry.device_id)
    assert device.name == "一号循环泵"
    assert device.manufacturer == "PlantPulse demo"
    assert "simulated" in device.model
    assert hub.area_registry.get(device.area_id).name == "循环水泵房"
    areas = {area.name for area in hub.area_registry.areas.values()}
    assert {"配电室", "一车间", "二车间", "循环水泵房"} <= areas
    grouped = {hub.entities.area_of(entity) for entity in hub.entities.all("demo")}
    assert None not in grouped


async def test_english_names_keep_the_same_unique_ids(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(language="en", update_interval=60))
    power = hub.states.get("sensor.circulating_pump_1_power")
    assert power.attributes["friendly_name"] == "Circulating pump 1 Power"
    assert hub.entity_registry.get("sensor.circulating_pump_1_power").unique_id == (
        "demo_pump_1_power"
    )
    assert hub.states.get("sensor.main_incomer_energy").attributes["unit_of_measurement"] == (
        "kWh"
    )
    assert hub.states.get("sensor.grinding_line_1_output") is not None
    device = hub.device_registry.get(
        hub.entity_registry.get("sensor.mill_id_fan_power").device_id
    )
    assert hub.area_registry.get(device.area_id).name == "Workshop 1"
    chinese = await hub_factory(config(update_interval=60))
    english_ids = sorted(sensor.unique_id for sensor in runner_of(hub).sensors)
    assert english_ids == sorted(sensor.unique_id for sensor in runner_of(chinese).sensors)
    assert len(set(english_ids)) == len(english_ids)
    assert "demo_grinding_line_output" in english_ids


async def test_energy_is_the_integral_of_power_and_never_decreases(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory(config(update_interval=60, seed=11))
    runner = runner_of(hub)
    start = runner.time
    before = dict(runner.readings)
    totals = [sensor.entity_id for sensor in runner.sensors if sensor.quantity.total]
    written: dict[str, list[float]] = {entity_id: [] for entity_id in totals}

    def remember(event: Event) -> None:
        if event.data["entity_id"] in written:
            written[event.data["entity_id"]].append(float(event.data["new_state"].state))

    hub.bus.async_listen(EVENT_STATE_CHANGED, remember)
    for minute in range(1, 24 * 60 + 1):  # one simulated day, driven minute by minute
        await runner.async_advance(start + minute * MINUTE)

    reference: Rates = {}
    simulation = PlantSimulation(11, hub.site.tz)
    previous = simulation.rates(start)
    for step in range(1, 24 * 360 + 1):  # the same day integrated independently, every 10 s
        current = simulation.rates(start + 10 * step)
        add_trapezoid(reference, previous, current, 10)
        previous = current
    for key, amount in reference.items():
        assert runner.readings[key] - before[key] == pytest.approx(amount, rel=2e-3), key
    energy = hub.states.get("sensor.zong_jin_xian_dian_liang")
    assert float(energy.state) == pytest.approx(before["main"] + reference["main"], rel=1e-4)
    assert hub.states.get("sensor.zong_jin_xian_gong_lv").state == f"{previous['main']:.2f}"
    for entity_id, values in written.items():
        assert values, entity_id
        assert all(later >= earlier for earlier, later in pairwise(values)), entity_id


async def test_speed_makes_simulated_time_run_faster(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(speed=3600, update_interval=0.1))
    runner = runner_of(hub)
    first_reading = runner.readings["pump_3"]
    real_start = time.time()
    await asyncio.sleep(1.0)
    elapsed = time.time() - real_start
    simulated = runner.time - runner.clock.sim_start
    assert simulated == pytest.approx(3600 * elapsed, rel=0.25)
    # An hour of a 560 kW pump per real second, instead of 0.16 kWh.
    used = runner.readings["pump_3"] - first_reading
    assert used == pytest.approx(560 * simulated / HOUR, rel=0.08)
    shown = float(hub.states.get("sensor.san_hao_xun_huan_beng_dian_liang").state)
    assert shown == pytest.approx(runner.readings["pump_3"], abs=0.01)


async def test_all_power_sensors_update_at_least_every_two_seconds(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory(config())
    runner = runner_of(hub)
    power_ids = {sensor.entity_id for sensor in runner.sensors if not sensor.quantity.total}
    changes: list[tuple[float, str]] = []

    def remember(event: Event) -> None:
        if event.data["entity_id"] in power_ids:
            changes.append((event.data["new_state"].last_updated_timestamp,
                            event.data["entity_id"]))

    hub.bus.async_listen(EVENT_STATE_CHANGED, remember)
    started = time.time()
    await asyncio.sleep(4.4)
    ticks: list[tuple[float, set[str]]] = []  # changes less than half a second apart
    for moment, entity_id in changes:
        if not ticks or moment - ticks[-1][0] > 0.5:
            ticks.append((moment, set()))
        ticks[-1][1].add(entity_id)
    moments = [moment for moment, _ids in ticks]
    assert len(moments) >= 2
    assert moments[0] - started <= 2.1
    assert all(later - earlier <= 2.1 for earlier, later in pairwise(moments))
    # Every tick writes the whole plant at once; the noisy loads change every time.
    assert all(len(ids) >= len(power_ids) // 2 for _moment, ids in ticks)


async def test_a_tick_at_top_speed_integrates_off_the_loop(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(update_interval=60, seed=3))
    runner = runner_of(hub)
    before = dict(runner.readings)
    longest_tick = MAX_SPEED * MAX_UPDATE_INTERVAL.total_seconds()  # 60 simulated hours
    async with LoopStallMeter() as meter:
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        await runner.async_advance(runner.time + longest_tick)
        took = time.perf_counter() - started
        await asyncio.sleep(0.05)
    # 7200 evaluations, yet the loop kept answering: never blocked for a quarter of the tick.
    assert meter.worst < took / 4, f"loop blocked {meter.worst:.3f} s of a {took:.2f} s tick"
    reference = PlantSimulation(3, hub.site.tz)
    times = time_grid(runner.time - longest_tick, runner.time, MINUTE)
    _rates, amounts = integrate(reference, times, reference.rates(times[0]))
    assert runner.readings["main"] - before["main"] == pytest.approx(amounts["main"], rel=2e-3)
    assert float(hub.states.get("sensor.zong_jin_xian_dian_liang").state) == pytest.approx(
        runner.readings["main"], abs=0.01
    )


async def test_a_tick_finishing_after_stop_is_dropped(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(update_interval=60))
    runner = runner_of(hub)
    time_before, shown = runner.time, hub.states.get("sensor.zong_jin_xian_dian_liang").state
    advancing = asyncio.create_task(runner.async_advance(runner.time + HOUR))
    await asyncio.sleep(0)  # the tick is now integrating in the executor
    runner.async_stop()
    await advancing
    assert runner.time == time_before
    assert hub.states.get("sensor.zong_jin_xian_dian_liang").state == shown


async def test_stopping_the_hub_stops_the_update_loop(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(speed=600, update_interval=0.1))
    runner = runner_of(hub)
    await asyncio.sleep(0.2)
    assert runner.running
    await hub.async_stop()
    assert not runner.running
    frozen = {state.entity_id: state.state for state in demo_states(hub)}
    frozen_time = runner.time
    await asyncio.sleep(0.3)
    assert runner.time == frozen_time
    assert {state.entity_id: state.state for state in demo_states(hub)} == frozen
    leftovers = [task.get_name() for task in asyncio.all_tasks() if "demo" in task.get_name()]
    assert leftovers == []


async def test_readings_continue_after_a_restart(
    hub_factory: HubFactory, tmp_path: Path
) -> None:
    folder = tmp_path / "plant"
    first = await hub_factory(config(update_interval=0.1), config_dir=folder)
    await asyncio.sleep(0.2)
    last_reading = runner_of(first).readings["main"]
    await first.async_stop()
    assert (folder / ".storage" / "demo.meters").is_file()
    await asyncio.sleep(0.3)

    second = await hub_factory(config(update_interval=0.1), start=False, config_dir=folder)
    # Until the downtime is integrated, the totals say unknown rather than a low reading.
    assert second.states.get("sensor.zong_jin_xian_dian_liang").state == "unknown"
    await second.async_start()
    await second.async_block_till_done()
    runner = runner_of(second)
    assert runner.readings_ready
    # The meters kept counting while the hub was down: about 0.3 s of a 1.2-2.5 MW plant.
    assert runner.readings["main"] > last_reading + 0.1
    assert float(second.states.get("sensor.zong_jin_xian_dian_liang").state) >= last_reading


async def test_a_disabled_sensor_is_left_out_and_the_others_keep_running(
    hub_factory: HubFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder, disabled = tmp_path / "plant", "sensor.zong_jin_xian_gong_lv"
    first = await hub_factory(config(update_interval=0.1), config_dir=folder)
    all_sensors = len(runner_of(first).sensors)
    first.entity_registry.async_update(disabled, disabled=True)
    await first.async_stop()
    await asyncio.sleep(0.3)  # downtime, which the restart integrates and back-fills

    second = await hub_factory(config(update_interval=0.1, history_days=1) + "recorder:\n",
                               start=False, config_dir=folder)
    late: list[State] = []
    second.bus.async_listen(EVENT_STATE_BACKFILLED, lambda event: late.append(event.data["state"]))
    changed: set[str] = set()
    second.bus.async_listen(EVENT_STATE_CHANGED, lambda event: changed.add(event.data["entity_id"]))
    await second.async_start()
    await second.async_block_till_done()
    runner = runner_of(second)
    started_at = runner.time
    await asyncio.sleep(0.3)

    fed = {sensor.entity_id for sensor in runner.sensors}
    assert disabled not in fed
    assert len(fed) == all_sensors - 1
    assert second.states.get(disabled) is None
    assert runner.time > started_at
    assert {"sensor.zong_jin_xian_dian_liang", "sensor.yi_hao_xun_huan_beng_dian_liang"} <= changed
    assert disabled not in changed
    # The downtime was added to the totals and written as history for every sensor that exists.
    assert runner.readings_ready
    assert {state.entity_id for state in late} == fed
    assert second.states.get("sensor.zong_jin_xian_dian_liang").state != "unknown"
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []


async def test_a_sensor_removed_at_run_time_is_no_longer_written(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(update_interval=0.1))
    removed = "sensor.san_hao_xun_huan_beng_gong_lv"
    await hub.entities.async_remove(removed)
    runner = runner_of(hub)
    started_at = runner.time
    await asyncio.sleep(0.3)
    assert runner.time > started_at
    assert removed not in {sensor.entity_id for sensor in runner.sensors}
    assert hub.states.get(removed) is None


async def test_history_fill_writes_past_readings_as_late_data(hub_factory: HubFactory) -> None:
    hub = await hub_factory(config(update_interval=60, seed=5))
    runner = runner_of(hub)
    end = runner.time
    live = dict(runner.readings)
    late: list = []
    hub.bus.async_listen(EVENT_STATE_BACKFILLED, lambda event: late.append(event.data["state"]))

    await async_fill(runner, FillPlan(end - 6 * HOUR, end, live, True, end - 6 * HOUR))

    points = 6 * 12 + 1  # every 5 minutes, both ends included
    assert len(late) == points * len(runner.sensors)
    assert all(end - 6 * HOUR - 1e-3 <= state.measured_timestamp <= end + 1e-3 for state in late)
    readings = [float(state.state) for state in late
                if state.entity_id == "sensor.zong_jin_xian_dian_liang"]
    assert len(readings) == points
    assert all(later > earlier for earlier, later in pairwise(readings))
    assert readings[-1] == pytest.approx(live["main"], abs=0.01)
    # The live states are untouched: back-filled readings only go to the recorder.
    assert float(hub.states.get("sensor.zong_jin_xian_dian_liang").state) == pytest.approx(
        live["main"], abs=0.01
    )
    first_power = next(state for state in late if state.entity_id == "sensor.zong_jin_xian_gong_lv")
    expected = PlantSimulation(5, hub.site.tz).rates(end - 6 * HOUR)["main"]
    assert float(first_power.state) == pytest.approx(expected, abs=0.01)


async def test_first_start_back_fills_history_and_statistics(hub_factory: HubFactory) -> None:
    hub = await hub_factory(SITE.format(language="zh-CN") + "recorder:\ndemo:\n"
                            "  history_days: 1\n  update_interval: 60\n")
    await hub.async_block_till_done()  # the fill runs in the background after start
    recorder = get_recorder(hub)
    await recorder.async_flush()
    now = datetime.now(UTC)
    energy_id, power_id = "sensor.zong_jin_xian_dian_liang", "sensor.zong_jin_xian_gong_lv"
    history = await recorder.async_get_history([energy_id, power_id], now - timedelta(days=1))
    readings = [float(item["state"]) for item in history[energy_id]]
    assert len(readings) >= 24 * 12
    assert all(later >= earlier for earlier, later in pairwise(readings))
    statistics = await recorder.async_get_statistics(
        [energy_id, power_id], "hour", now - timedelta(days=1)
    )
    energy_hours, power_hours = statistics[energy_id], statistics[power_id]
    assert len(energy_hours) >= 23
    # Over the complete hours, the energy counted equals the mean power times the hours.
    power_by_start = {row["start"]: row["mean"] for row in power_hours}
    complete = energy_hours[1:-1]
    counted = sum(row["change"] for row in complete)
    assert counted == pytest.approx(sum(power_by_start[row["start"]] for row in complete),
                                    rel=0.005)


async def test_history_days_need_a_recorder(hub_factory: HubFactory) -> None:
    late: list = []
    hub = await hub_factory(config(history_days=1, update_interval=60), start=False)
    hub.bus.async_listen(EVENT_STATE_BACKFILLED, late.append)
    await hub.async_start()
    await hub.async_block_till_done()
    assert late == []  # nothing to keep the history, so nothing is written


async def test_bad_settings_are_reported_and_fall_back_to_defaults(
    hub_factory: HubFactory,
) -> None:
    hub = await hub_factory(config(speed=0, update_interval="fast", history_days=90))
    messages = [str(issue) for issue in hub.config_issues]
    assert messages == [
        "Invalid config for 'demo' (configuration.yaml, line 7): must be between 0.01 and 3600 "
        "(1 is real time, 60 runs a simulated minute per second) for 'speed' at speed",
        "Invalid config for 'demo' (configuration.yaml, line 8): expected a time period such as "
        "30, '00:05:00' or {minutes: 5} for 'update_interval' (got 'fast') at update_interval",
        "Invalid config for 'demo' (configuration.yaml, line 9): must be a whole number of days "
        "from 0 to 31 for 'history_days' at history_days",
    ]
    runner = runner_of(hub)
    assert runner.clock.speed == 1
    assert runner.update_interval == timedelta(seconds=2)


async def test_an_empty_block_means_defaults(hub_factory: HubFactory) -> None:
    hub = await hub_factory(SITE.format(language="zh-CN") + "demo:\n")
    assert hub.config_issues == []
    assert hub.config["demo"] == {
        "speed": 1.0, "update_interval": timedelta(seconds=2), "seed": 2026, "history_days": 0,
    }
    assert "demo" in hub.components


def test_bundled_configuration_is_valid() -> None:
    raw = read_config_dir(BUNDLED_CONFIG)
    assert raw.issues == []
    site, site_issues = site_from_raw(raw)
    assert site_issues == []
    assert (site.time_zone, site.currency, site.language) == ("Asia/Shanghai", "CNY", "zh-CN")
    assert "模拟" in site.name
    assert set(raw.blocks) == {"plantpulse", "logger", "http", "recorder", "demo",
                               "alarm", "automation"}
    plan = prepare_setup(BUNDLED_CONFIG, raw)
    assert plan.issues == []
    assert "demo" in plan.modules
    assert CONFIG_SCHEMA(raw.blocks["demo"])["history_days"] == 2
