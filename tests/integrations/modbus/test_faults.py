"""Bad devices: exception codes, silence, garbage and short answers mark only their own
entities unavailable; the device comes back when it answers again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.integrations.modbus.simulator import Fault, MeterSimulator

from .conftest import by_name
from .test_dtsu666 import gateway_yaml

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
TWO_METERS = (
    "      - name: 1号进线\n"
    "        device_id: 1\n"
    "        profile: chint_dtsu666\n"
    "      - name: 2号进线\n"
    "        device_id: 3\n"
    "        profile: chint_dtsu666\n"
)


async def _poll(hub, clock: ManualClock, seconds: float) -> None:
    await clock.advance(seconds)
    await hub.async_block_till_done()


@pytest.mark.parametrize("fault", list(Fault))
async def test_a_failing_device_is_unavailable_alone_and_recovers(
    hub_factory, meter_server: MeterSimulator, fault: Fault,
) -> None:
    clock = ManualClock(START)
    hub = await hub_factory(gateway_yaml(meter_server.port, TWO_METERS, timeout=0.2),
                            clock=clock)
    await hub.async_block_till_done()
    assert by_name(hub)["1号进线 有功功率"].state != "unavailable"

    meter_server.faults[1] = fault
    await _poll(hub, clock, 5)
    states = by_name(hub)
    assert states["1号进线 有功功率"].state == "unavailable"
    assert states["1号进线 正向有功电能"].state == "unavailable"
    assert float(states["2号进线 A相电压"].state) == pytest.approx(229.0)
    device = hub.data["modbus"][0]
    assert device.coordinator.failures == 1
    error = device.coordinator.last_error
    expected = {
        Fault.EXCEPTION: "exception code 4 (device failure)",
        Fault.SILENT: "no answer",
        Fault.GARBAGE: "no answer",
        Fault.SHORT: "asked for 44 holding items at 0x2000, got 43",
    }[fault]
    assert expected in error

    # Backoff: the failing meter is asked again after 10 s, then 20 s; the other every 5 s.
    asked: list[int] = []
    for _ in range(6):
        before = len(meter_server.requests)
        await _poll(hub, clock, 5)
        asked.append(sum(1 for r in meter_server.requests[before:] if r.device_id == 1))
    assert device.coordinator.failures >= 2
    other = hub.data["modbus"][1]
    assert other.coordinator.failures == 0

    del meter_server.faults[1]
    await _poll(hub, clock, 60)
    states = by_name(hub)
    assert float(states["1号进线 A相电压"].state) == pytest.approx(230.1)
    assert device.coordinator.failures == 0
    assert asked.count(0) >= 3, asked
