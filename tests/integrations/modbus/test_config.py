"""Custom sensors in every layout, coils, RTU over TCP, ratio changes on a date, and profiles
a site adds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.integrations.modbus.simulator import MeterSimulator

from .conftest import DTSU666_REGIONS, Dtsu666Reading, by_name, load_dtsu666
from .test_dtsu666 import gateway_yaml

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

MACHINE = (
    "      - name: 空压机\n"
    "        device_id: 2\n"
    "        max_gap: 2\n"
    "        sensors:\n"
    "          - {name: 功率, address: 0, data_type: float32, scale: 0.1,\n"
    "             unit_of_measurement: kW, device_class: power, state_class: measurement}\n"
    "          - {name: 压力, address: 2, data_type: float32, word_order: little}\n"
    "          - {name: 温度, address: 4, data_type: float32, byte_order: little}\n"
    "          - {name: 累计, address: 6, data_type: float64, word_order: little,\n"
    "             byte_order: little, device_class: energy, unit_of_measurement: kWh}\n"
    "          - {name: 计数, address: 12, data_type: int32, offset: 100}\n"
    "          - {name: 状态码, address: 14, data_type: int16, precision: 0}\n"
    "          - {name: 电流, address: 3, input_type: input, data_type: uint16, scale: 0.01,\n"
    "             precision: 2}\n"
    "          - {name: 运行, address: 5, input_type: coil}\n"
)


async def test_custom_sensors_in_every_order(hub_factory, meter_server: MeterSimulator) -> None:
    meter_server.set_value(2, 0, 1234.5)
    meter_server.set_value(2, 2, 6.5, word_order="little")
    meter_server.set_value(2, 4, 36.25, byte_order="little")
    meter_server.set_value(2, 6, 987654.321, "float64", "little", "little")
    meter_server.set_value(2, 12, -7, "int32")
    meter_server.set_value(2, 14, -2, "int16")
    meter_server.set_value(2, 3, 1234, "uint16", table="input")
    meter_server.set_bit(2, "coil", 5, True)
    hub = await hub_factory(gateway_yaml(meter_server.port, MACHINE), clock=ManualClock(START))
    await hub.async_block_till_done()
    states = by_name(hub)
    assert float(states["空压机 功率"].state) == pytest.approx(123.45)
    assert float(states["空压机 压力"].state) == 6.5
    assert float(states["空压机 温度"].state) == 36.25
    total = states["空压机 累计"]
    assert float(total.state) == pytest.approx(987654.321)
    assert total.attributes["state_class"] == "total_increasing"
    assert states["空压机 计数"].state == "93"
    assert states["空压机 状态码"].state == "-2"
    assert states["空压机 电流"].state == "12.34"
    assert states["空压机 运行"].state == "on"
    assert states["空压机 运行"].entity_id.startswith("binary_sensor.")
    # Holding 0..14 is one request (gaps of at most 2), input and coil one each.
    assert sorted((r.table, r.address, r.count) for r in meter_server.requests) == [
        ("coil", 5, 1), ("holding", 0, 15), ("input", 3, 1),
    ]
    meter_server.set_bit(2, "coil", 5, False)
    clock = hub.clock
    await clock.advance(5)
    await hub.async_block_till_done()
    assert by_name(hub)["空压机 运行"].state == "off"


async def test_rtu_framing_over_tcp(hub_factory) -> None:
    server = MeterSimulator({1: DTSU666_REGIONS}, framer="rtu")
    await server.async_start()
    try:
        load_dtsu666(server, 1, Dtsu666Reading())
        hub = await hub_factory(gateway_yaml(server.port, (
            "      - {name: 1号进线, device_id: 1, profile: chint_dtsu666}\n"
        )).replace("type: tcp", "type: rtuovertcp"), clock=ManualClock(START))
        await hub.async_block_till_done()
        assert float(by_name(hub)["1号进线 A相电压"].state) == pytest.approx(230.1)
    finally:
        await server.async_stop()


async def test_ct_ratio_changes_on_its_date(hub_factory, meter_server: MeterSimulator) -> None:
    """CT 200/5 (40) until 2026-03-02 12:00 Shanghai (04:00 UTC), then 300/5 (60)."""
    clock = ManualClock(START)
    hub = await hub_factory(gateway_yaml(meter_server.port, (
        "      - name: 1号进线\n"
        "        device_id: 1\n"
        "        profile: chint_dtsu666\n"
        "        ct_ratio: 40\n"
        "        multipliers:\n"
        "          - {from: '2026-03-02 12:00', ct_ratio: 60}\n"
    ), scan_interval=3600), clock=clock)
    await hub.async_block_till_done()
    energy = "1号进线 正向有功电能"
    assert float(by_name(hub)[energy].state) == pytest.approx(12345.67 * 40, abs=0.01)
    load_dtsu666(meter_server, 1, Dtsu666Reading(import_kwh=12355.67))
    await clock.advance(3600)  # 02:00 UTC, before the change
    await hub.async_block_till_done()
    before = float(by_name(hub)[energy].state)
    assert before == pytest.approx(12355.67 * 40, abs=0.01)
    assert float(by_name(hub)["1号进线 A相电流"].state) == pytest.approx(1.234 * 40)
    await clock.advance(3600)  # 03:00 UTC, still before the change
    await hub.async_block_till_done()
    assert float(by_name(hub)[energy].state) == before
    load_dtsu666(meter_server, 1, Dtsu666Reading(import_kwh=12365.67))
    await clock.advance(3600)  # 04:00 UTC, the change
    await hub.async_block_till_done()
    states = by_name(hub)
    # 10 more kWh on the meter count 600, not a jump of the whole reading × 20.
    assert float(states[energy].state) == pytest.approx(before + 10 * 60, abs=0.01)
    assert float(states["1号进线 A相电流"].state) == pytest.approx(1.234 * 60)
    assert states["1号进线 有功功率"].attributes["ratio"] == 60


async def test_site_profiles_add_and_extend(hub_factory, meter_server: MeterSimulator) -> None:
    profile = (
        "manufacturer: 某厂\n"
        "model: DTSU666 (只读电能)\n"
        "source: our own test\n"
        "extends: chint_dtsu666\n"
        "sensors:\n"
        "  - {key: import_energy, scale: 0.001, unit_of_measurement: MWh, precision: 5}\n"
        "  - {key: ub, name: B相电压原值, address: 0x2008, data_type: float32}\n"
    )
    broken = "source: x\nsensors:\n  - {key: a, name: A, address: 70000}\n"
    hub = await hub_factory(gateway_yaml(meter_server.port, (
        "      - {name: 1号进线, device_id: 1, profile: my_meter}\n"
        "      - {name: 2号进线, device_id: 3, profile: no_such_meter}\n"
    )), extra_files={"modbus_profiles/my_meter.yaml": profile,
                     "modbus_profiles/broken.yaml": broken},
        clock=ManualClock(START))
    await hub.async_block_till_done()
    states = by_name(hub)
    energy = states["1号进线 正向有功电能"]
    assert float(energy.state) == pytest.approx(12.34567, abs=1e-5)
    assert energy.attributes["unit_of_measurement"] == "MWh"
    assert float(states["1号进线 B相电压原值"].state) == pytest.approx(2301.0)
    assert not any(name.startswith("2号进线") for name in states)
    messages = [item.message for item in hub.notifications.all()]
    assert any("broken.yaml" in message and "65535" in message for message in messages)
    assert any("no profile 'no_such_meter'" in message and "chint_dtsu666" in message
               for message in messages)


def test_check_config_reports_an_unknown_profile(tmp_path: Path) -> None:
    from tests.conftest import write_config
    from tests.core.test_cli import plantpulse

    write_config(tmp_path, (
        "modbus:\n  - name: gateway\n    host: 127.0.0.1\n    port: 5020\n    devices:\n"
        "      - {name: 1号进线, device_id: 1, profile: chint_dtsu667}\n"))
    result = plantpulse("check-config", "--config", str(tmp_path))
    assert result.returncode == 1, result.stdout
    assert "no profile 'chint_dtsu667'" in result.stdout
    assert "chint_dtsu666" in result.stdout
