"""The bus client against simulated meters behind a real TCP gateway and on a serial pty."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from plantpulse.integrations.dlt645.client import (
    BadReply,
    Dlt645Client,
    MeterRefused,
    MeterTimeout,
    describe_error,
)
from plantpulse.integrations.dlt645.data import CURRENT, ENERGY, VOLTAGE
from plantpulse.integrations.dlt645.frame import Function
from plantpulse.integrations.dlt645.simulator import (
    GatewaySimulator,
    MeterBus,
    PtySimulator,
    SimulatedMeter,
)
from plantpulse.integrations.dlt645.transport import SerialTransport, TcpTransport

# Real I/O: a silent meter costs one timeout, so keep it short.
TIMEOUT = 0.3
MAIN = "000012345678"
BRANCH = "000012345679"


@pytest.fixture
async def bus() -> MeterBus:
    main = SimulatedMeter(MAIN)
    main.set_many({"energy_import": 1206.42, "voltage_a": 229.8, "current_a": -12.345})
    branch = SimulatedMeter(BRANCH)
    branch.set_many({"energy_import": 88.5, "voltage_a": 231.0})
    return MeterBus([main, branch])


@pytest.fixture
async def client(bus: MeterBus) -> AsyncIterator[Dlt645Client]:
    gateway = GatewaySimulator(bus)
    port = await gateway.async_start()
    instance = Dlt645Client(TcpTransport("127.0.0.1", port, 2.0), TIMEOUT)
    yield instance
    await instance.async_close()
    await gateway.async_stop()


async def test_reads_several_meters_on_one_gateway(client: Dlt645Client, bus: MeterBus) -> None:
    assert ENERGY.decode(await client.async_read(MAIN, 0x00010000)) == 1206.42
    assert ENERGY.decode(await client.async_read(BRANCH, 0x00010000)) == 88.5
    assert VOLTAGE.decode(await client.async_read(BRANCH, 0x02010100)) == 231.0
    assert CURRENT.decode(await client.async_read(MAIN, 0x02020100)) == -12.345
    assert [(frame.address, frame.function) for frame in bus.requests] == [
        (MAIN, Function.READ), (BRANCH, Function.READ), (BRANCH, Function.READ),
        (MAIN, Function.READ),
    ]


async def test_concurrent_reads_take_turns_on_the_half_duplex_bus(
    client: Dlt645Client, bus: MeterBus,
) -> None:
    reads = [client.async_read(address, 0x02010100) for address in (MAIN, BRANCH) * 5]
    values = [VOLTAGE.decode(raw) for raw in await asyncio.gather(*reads)]
    assert values == [229.8, 231.0] * 5


async def test_long_values_come_in_follow_up_frames(client: Dlt645Client, bus: MeterBus) -> None:
    meter = bus.meters[MAIN]
    meter.frame_size = 7
    value = bytes(range(30))
    meter.values[0x04000401] = value
    assert await client.async_read(MAIN, 0x04000401) == value
    follow_ups = [frame for frame in bus.requests if frame.function == Function.READ_FOLLOW_UP]
    assert [frame.data[4] for frame in follow_ups] == [1, 2, 3, 4]


async def test_error_reply_names_the_error_bits(client: Dlt645Client, bus: MeterBus) -> None:
    with pytest.raises(MeterRefused, match=r"refused data 02800002: no such data \(ERR 02\)"):
        await client.async_read(MAIN, 0x02800002)
    bus.meters[MAIN].refuse[0x00010000] = 0x04
    with pytest.raises(MeterRefused, match="password wrong or not authorised"):
        await client.async_read(MAIN, 0x00010000)
    assert describe_error(0x03) == "other error, no such data (ERR 03)"


async def test_bad_checksum_is_rejected_at_once(
    client: Dlt645Client, bus: MeterBus, caplog: pytest.LogCaptureFixture,
) -> None:
    bus.meters[MAIN].bad_checksum = True
    started = time.monotonic()
    with pytest.raises(BadReply, match="bad checksum"):
        await client.async_read(MAIN, 0x00010000)
    assert time.monotonic() - started < TIMEOUT
    assert "Rejected a DL/T 645 frame" in caplog.text
    assert ENERGY.decode(await client.async_read(BRANCH, 0x00010000)) == 88.5


async def test_garbage_between_frames_is_skipped(client: Dlt645Client, bus: MeterBus) -> None:
    bus.garbage = b"\x00\x68\x11\x16\xffAT+OK\r\n\x68"
    assert ENERGY.decode(await client.async_read(MAIN, 0x00010000)) == 1206.42
    assert VOLTAGE.decode(await client.async_read(BRANCH, 0x02010100)) == 231.0


async def test_echo_of_our_own_request_is_not_taken_for_the_answer(
    client: Dlt645Client, bus: MeterBus,
) -> None:
    bus.echo = True
    assert VOLTAGE.decode(await client.async_read(MAIN, 0x02010100)) == 229.8
    bus.meters[MAIN].silent = True
    with pytest.raises(MeterTimeout):
        await client.async_read(MAIN, 0x02010100)


async def test_silent_meter_times_out_and_answers_again_later(
    client: Dlt645Client, bus: MeterBus,
) -> None:
    bus.meters[MAIN].silent = True
    with pytest.raises(MeterTimeout, match=f"meter {MAIN} did not answer within 0\\.3 s"):
        await client.async_read(MAIN, 0x00010000)
    bus.meters[MAIN].silent = False
    assert VOLTAGE.decode(await client.async_read(MAIN, 0x02010100)) == 229.8


async def test_unknown_address_times_out(client: Dlt645Client) -> None:
    with pytest.raises(MeterTimeout):
        await client.async_read("000000000001", 0x00010000)


async def test_gateway_down_and_back() -> None:
    bus = MeterBus([SimulatedMeter(MAIN, {0x02010100: VOLTAGE.encode(230.0)})])
    gateway = GatewaySimulator(bus)
    port = await gateway.async_start()
    client = Dlt645Client(TcpTransport("127.0.0.1", port, 1.0), TIMEOUT)
    try:
        assert VOLTAGE.decode(await client.async_read(MAIN, 0x02010100)) == 230.0
        await gateway.async_stop()
        with pytest.raises(MeterTimeout, match=r"gateway 127\.0\.0\.1"):
            await client.async_read(MAIN, 0x02010100)
        await gateway.async_start(port=port)
        assert VOLTAGE.decode(await client.async_read(MAIN, 0x02010100)) == 230.0
    finally:
        await client.async_close()
        await gateway.async_stop()


async def test_read_address_by_broadcast_when_one_meter_is_on_the_bus() -> None:
    bus = MeterBus([SimulatedMeter(MAIN)])
    gateway = GatewaySimulator(bus)
    port = await gateway.async_start()
    client = Dlt645Client(TcpTransport("127.0.0.1", port, 1.0), TIMEOUT)
    try:
        assert await client.async_read_address() == MAIN
        bus.add(SimulatedMeter(BRANCH))  # two meters answering a broadcast collide
        with pytest.raises(MeterTimeout):
            await client.async_read_address()
    finally:
        await client.async_close()
        await gateway.async_stop()


async def test_serial_port_on_a_pty() -> None:
    bus = MeterBus([SimulatedMeter(MAIN, {0x00010000: ENERGY.encode(1206.42)})])
    pty = PtySimulator(bus)
    client = Dlt645Client(SerialTransport(pty.path, 2400), TIMEOUT)
    try:
        assert ENERGY.decode(await client.async_read(MAIN, 0x00010000)) == 1206.42
        assert await client.async_read_address() == MAIN
    finally:
        await client.async_close()
        pty.close()


async def test_serial_port_that_does_not_exist() -> None:
    client = Dlt645Client(SerialTransport("/dev/ttyDOESNOTEXIST", 2400), TIMEOUT)
    with pytest.raises(MeterTimeout, match="cannot open serial port /dev/ttyDOESNOTEXIST"):
        await client.async_read(MAIN, 0x00010000)
