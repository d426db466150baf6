"""A DTSU666 behind a Modbus TCP gateway, named by its profile, read through the hub."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.integrations.modbus.simulator import MeterSimulator

from .conftest import Dtsu666Reading, by_name

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def gateway_yaml(port: int, devices: str, scan_interval: float = 5, **line: object) -> str:
    extra = "".join(f"    {key}: {value}\n" for key, value in line.items())
    return (
        "modbus:\n"
        "  - name: 配电房网关\n"
        "    type: tcp\n"
        "    host: 127.0.0.1\n"
        f"    port: {port}\n"
        f"    scan_interval: {scan_interval}\n"
        f"{extra}"
        "    devices:\n"
        f"{devices}"
    )


DTSU_DEVICE = (
    "      - name: 1号进线\n"
    "        device_id: 1\n"
    "        profile: chint_dtsu666\n"
    "        ct_ratio: 40\n"
)


async def test_profile_values_with_ct_ratio(hub_factory, meter_server: MeterSimulator) -> None:
    hub = await hub_factory(gateway_yaml(meter_server.port, DTSU_DEVICE),
                            clock=ManualClock(START))
    await hub.async_block_till_done()
    states = by_name(hub)
    reading = Dtsu666Reading()
    voltage = states["1号进线 A相电压"]
    assert float(voltage.state) == pytest.approx(230.1)
    assert voltage.attributes["unit_of_measurement"] == "V"
    assert voltage.attributes["device_class"] == "voltage"
    # 200/5 A CT: ratio 40 on current, power and energy; none on power factor and frequency.
    assert float(states["1号进线 A相电流"].state) == pytest.approx(1.234 * 40)
    power = states["1号进线 有功功率"]
    assert float(power.state) == pytest.approx(reading.power_w / 1000 * 40, abs=1e-4)
    assert power.attributes["unit_of_measurement"] == "kW"
    assert power.attributes["ratio"] == 40
    assert float(states["1号进线 功率因数"].state) == pytest.approx(0.95)
    assert float(states["1号进线 频率"].state) == pytest.approx(50.0)
    energy = states["1号进线 正向有功电能"]
    assert float(energy.state) == pytest.approx(12345.67 * 40, abs=0.01)
    assert energy.attributes["state_class"] == "total_increasing"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert energy.entity_id == "sensor.1_hao_jin_xian_zheng_xiang_you_gong_dian_neng"
    # 18 values in three requests: 0x2000+44, 0x2044+2 and 0x401E+12.
    assert [(r.address, r.count) for r in meter_server.requests] == [
        (0x2000, 44), (0x2044, 2), (0x401E, 12),
    ]
