"""DL/T 645 meters in the hub: sensors from YAML, values and units, faults, backoff, recovery."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.core.hub import Hub
from plantpulse.core.states import State
from plantpulse.integrations.dlt645.frame import Function
from plantpulse.integrations.dlt645.simulator import GatewaySimulator, MeterBus, SimulatedMeter
from tests.conftest import HubFactory

MAIN = "000012345678"
BRANCH = "000012345679"
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")

READINGS = {
    "energy_total": 1206.42, "energy_import": 1206.42, "energy_import_sharp": 101.5,
    "energy_import_peak": 402.25, "energy_import_flat": 352.17, "energy_import_valley": 350.5,
    "voltage_a": 229.8, "voltage_b": 230.4, "voltage_c": 231.0, "current_a": -12.345,
    "current_b": 12.1, "current_c": 11.98, "power": 8.3456, "reactive_power": -1.2,
    "apparent_power": 8.43, "power_factor": 0.985, "frequency": 50.01,
}


@pytest.fixture
async def gateway() -> AsyncIterator[GatewaySimulator]:
    main = SimulatedMeter(MAIN)
    main.set_many(READINGS)
    branch = SimulatedMeter(BRANCH)
    branch.set_many({"energy_import": 88.5, "power": 0.4321})
    simulator = GatewaySimulator(MeterBus([main, branch]))
    await simulator.async_start()
    yield simulator
    await simulator.async_stop()


def config(port: int, main_data: str = "[energy_total, energy_import_tariffs, voltage, current, "
           "power, reactive_power, apparent_power, power_factor, frequency]") -> str:
    return f"""
        dlt645:
          - name: 2号变压器 网关
            type: tcp
            host: 127.0.0.1
            port: {port}
            scan_interval: 15
            timeout: 0.3
            meters:
              - name: 杨36线 总柜
                address: "{MAIN}"
                ct_ratio: 200
                data: {main_data}
              - name: 空压机
                address: {BRANCH}
                data: [energy_import, power]
    """


async def start(hub_factory: HubFactory, text: str) -> tuple[Hub, ManualClock]:
    clock = ManualClock(START)
    hub = await hub_factory(text, clock=clock)
    await hub.data["dlt645"].first_readings
    return hub, clock


def state(hub: Hub, address: str, key: str) -> State:
    entity_id = hub.entity_registry.async_get_entity_id("sensor", "dlt645", f"{address}_{key}")
    assert entity_id is not None, f"no sensor for {address} {key}"
    current = hub.states.get(entity_id)
    assert current is not None
    return current


async def poll(hub: Hub, clock: ManualClock, seconds: float = 15) -> None:
    await clock.advance(seconds)
    await hub.async_block_till_done()


def polls_of(gateway: GatewaySimulator, address: str) -> int:
    return sum(1 for frame in gateway.bus.requests
               if frame.address == address and frame.function == Function.READ)


async def test_meters_become_sensors_with_values_units_and_ratios(
    hub_factory: HubFactory, gateway: GatewaySimulator,
) -> None:
    hub, clock = await start(hub_factory, config(gateway.port))

    # CT 200: energy and power ×200 (the meter reports secondary values), current ×200.
    energy = state(hub, MAIN, "energy_total")
    assert energy.state == "241284.00"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["device_class"] == "energy"
    assert energy.attributes["friendly_name"] == "杨36线 总柜 组合有功总电能"
    assert energy.attributes["meter_address"] == MAIN
    assert energy.attributes["data_identifier"] == "00000000"
    assert [state(hub, MAIN, f"energy_import_{tariff}").state
            for tariff in ("sharp", "peak", "flat", "valley")] == [
        "20300.00", "80450.00", "70434.00", "70100.00"]
    voltage = state(hub, MAIN, "voltage_b")
    assert (voltage.state, voltage.attributes["unit_of_measurement"]) == ("230.4", "V")
    assert voltage.attributes["state_class"] == "measurement"
    current = state(hub, MAIN, "current_a")
    assert (current.state, current.attributes["unit_of_measurement"]) == ("-2469.000", "A")
    power = state(hub, MAIN, "power")
    assert (power.state, power.attributes["unit_of_measurement"]) == ("1669.1200", "kW")
    assert state(hub, MAIN, "reactive_power").state == "-240.0000"
    assert state(hub, MAIN, "reactive_power").attributes["unit_of_measurement"] == "kvar"
    assert state(hub, MAIN, "apparent_power").attributes["unit_of_measurement"] == "kVA"
    factor = state(hub, MAIN, "power_factor")
    assert factor.state == "0.985" and "unit_of_measurement" not in factor.attributes
    assert state(hub, MAIN, "frequency").state == "50.01"
    assert state(hub, BRANCH, "energy_import").state == "88.50"
    assert state(hub, BRANCH, "power").state == "0.4321"

    gateway.bus.meters[BRANCH].set("energy_import", 88.75)
    await poll(hub, clock)
    assert state(hub, BRANCH, "energy_import").state == "88.75"


async def test_silent_meter_marks_only_its_sensors_unavailable_backs_off_and_recovers(
    hub_factory: HubFactory, gateway: GatewaySimulator,
) -> None:
    hub, clock = await start(hub_factory, config(gateway.port, "[energy_import, voltage]"))
    branch = gateway.bus.meters[BRANCH]
    branch.silent = True
    await poll(hub, clock)
    assert state(hub, BRANCH, "energy_import").state == "unavailable"
    assert state(hub, BRANCH, "power").state == "unavailable"
    assert state(hub, MAIN, "voltage_a").state == "229.8"
    tries = polls_of(gateway, BRANCH)

    # Backoff: the next try is 30 s after the failure, not 15.
    await poll(hub, clock)
    assert polls_of(gateway, BRANCH) == tries
    assert state(hub, MAIN, "energy_import").state == "241284.00"
    branch.silent = False
    await poll(hub, clock)
    assert polls_of(gateway, BRANCH) > tries
    assert state(hub, BRANCH, "energy_import").state == "88.50"
    assert state(hub, BRANCH, "power").state == "0.4321"


async def test_refused_data_marks_only_that_sensor_unavailable(
    hub_factory: HubFactory, gateway: GatewaySimulator, caplog: pytest.LogCaptureFixture,
) -> None:
    del gateway.bus.meters[MAIN].values[0x02800002]  # a meter without frequency
    hub, clock = await start(hub_factory, config(gateway.port, "[energy_import, frequency]"))
    assert state(hub, MAIN, "frequency").state == "unavailable"
    assert state(hub, MAIN, "energy_import").state == "241284.00"
    assert "cannot read 02800002: meter 000012345678 refused data 02800002: no such data" in (
        caplog.text)
    await poll(hub, clock)
    assert caplog.text.count("cannot read 02800002") == 1

    gateway.bus.meters[MAIN].set("frequency", 49.98)
    await poll(hub, clock)
    assert state(hub, MAIN, "frequency").state == "49.98"


async def test_bad_checksums_make_the_meter_unavailable_until_it_answers_cleanly(
    hub_factory: HubFactory, gateway: GatewaySimulator, caplog: pytest.LogCaptureFixture,
) -> None:
    hub, clock = await start(hub_factory, config(gateway.port, "[energy_import]"))
    gateway.bus.meters[MAIN].bad_checksum = True
    await poll(hub, clock)
    assert state(hub, MAIN, "energy_import").state == "unavailable"
    assert state(hub, BRANCH, "energy_import").state == "88.50"
    assert "Rejected a DL/T 645 frame: bad checksum" in caplog.text
    gateway.bus.meters[MAIN].bad_checksum = False
    await poll(hub, clock, 30)
    assert state(hub, MAIN, "energy_import").state == "241284.00"


async def test_garbage_from_the_gateway_is_tolerated(
    hub_factory: HubFactory, gateway: GatewaySimulator,
) -> None:
    gateway.bus.garbage = b"\xff\x68\x00garbage\x16"
    hub, _clock = await start(hub_factory, config(gateway.port, "[energy_import, voltage]"))
    assert state(hub, MAIN, "voltage_c").state == "231.0"
    assert state(hub, BRANCH, "energy_import").state == "88.50"


async def test_daily_frozen_reading_keeps_the_meters_time(
    hub_factory: HubFactory, gateway: GatewaySimulator,
) -> None:
    midnight = datetime(2026, 3, 2, 0, 0, tzinfo=SHANGHAI)
    gateway.bus.meters[MAIN].set_daily_frozen(midnight, [1200.0, 100.0, 400.0, 350.0, 350.0])
    hub, clock = await start(hub_factory, config(gateway.port, "[daily_frozen]"))
    frozen = state(hub, MAIN, "daily_frozen_import")
    assert frozen.state == "240000.00"
    assert frozen.measured_timestamp == midnight.timestamp()

    next_midnight = datetime(2026, 3, 3, 0, 0, tzinfo=SHANGHAI)
    gateway.bus.meters[MAIN].set_daily_frozen(next_midnight, [1230.5, 101.0, 410.0, 360.0, 359.5])
    await poll(hub, clock)
    frozen = state(hub, MAIN, "daily_frozen_import")
    assert frozen.state == "246100.00"
    assert frozen.measured_timestamp == next_midnight.timestamp()


async def test_config_errors_name_the_problem_and_keep_the_rest(
    hub_factory: HubFactory, gateway: GatewaySimulator,
) -> None:
    hub = await hub_factory(f"""
        dlt645:
          - name: good
            type: tcp
            host: 127.0.0.1
            port: {gateway.port}
            timeout: 0.3
            meters:
              - name: main
                address: "{MAIN}"
                data: [energy_import]
              - name: typo
                address: "00001234567X"
              - name: twice
                address: "{MAIN}"
              - name: odd data
                address: "{BRANCH}"
                data: [energy, voltage]
          - name: no host
            type: tcp
            port: 8899
            meters:
              - name: lost
                address: "000000000001"
          - name: serial without device
            type: serial
            meters:
              - name: lost too
                address: "000000000002"
    """, clock=ManualClock(START))
    await hub.data["dlt645"].first_readings
    messages = " | ".join(issue.message for issue in hub.config_issues)
    assert "meter address '00001234567X' is not 12 decimal digits" in messages
    assert "meter address 000012345678 is already used by 'main'" in messages
    assert "unknown data group 'energy'" in messages
    assert "a tcp gateway needs 'host'" in messages
    assert "a serial bus needs 'device'" in messages
    assert state(hub, MAIN, "energy_import").state == "1206.42"
