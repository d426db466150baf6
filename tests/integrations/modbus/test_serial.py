"""RTU over a serial line: a pymodbus serial server and the hub on two ptys joined like a
null-modem cable (bytes copied between the pty masters), so both sides use real tty devices."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from plantpulse.core.clock import ManualClock
from plantpulse.integrations.modbus.simulator import MeterSimulator

from .conftest import DTSU666_REGIONS, Dtsu666Reading, by_name, load_dtsu666


@pytest.fixture
async def null_modem() -> AsyncIterator[tuple[str, str]]:
    """Two tty paths; what one side writes, the other reads."""
    loop = asyncio.get_running_loop()
    first, second = os.openpty(), os.openpty()
    for _master, slave in (first, second):
        tty.setraw(slave)

    def copy(source: int, target: int) -> None:
        with contextlib.suppress(OSError):
            os.write(target, os.read(source, 4096))

    loop.add_reader(first[0], copy, first[0], second[0])
    loop.add_reader(second[0], copy, second[0], first[0])
    yield os.ttyname(first[1]), os.ttyname(second[1])
    for master, slave in (first, second):
        loop.remove_reader(master)
        os.close(master)
        os.close(slave)


async def test_meter_on_a_serial_line(hub_factory, null_modem: tuple[str, str]) -> None:
    meter_side, hub_side = null_modem
    server = MeterSimulator({5: DTSU666_REGIONS}, serial_port=meter_side)
    await server.async_start()
    try:
        load_dtsu666(server, 5, Dtsu666Reading())
        hub = await hub_factory(
            "modbus:\n"
            "  - name: RS485-1\n"
            "    type: serial\n"
            f"    port: {hub_side}\n"
            "    baudrate: 9600\n"
            "    parity: N\n"
            "    timeout: 1\n"
            "    devices:\n"
            "      - {name: 3号配电柜, device_id: 5, profile: chint_dtsu666}\n",
            clock=ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)),
        )
        await hub.async_block_till_done()
        states = by_name(hub)
        assert float(states["3号配电柜 A相电压"].state) == pytest.approx(230.1)
        assert float(states["3号配电柜 正向有功电能"].state) == pytest.approx(12345.67, abs=0.01)
        assert len(server.requests) == 3
    finally:
        await server.async_stop()
