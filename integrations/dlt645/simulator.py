"""A DL/T 645-2007 meter simulator: meters behind a TCP transparent gateway or a serial pty.

For trying a configuration without hardware, and for the tests. Each simulated meter answers
reads (11H) of the values it holds, splits long answers into follow-up frames (B1H, then
12H/92H/B2H with sequence numbers), answers read-address (13H) when alone on the bus, and
can be told to fail: stay silent, refuse data (D1H with an error byte) or damage checksums.
The gateway can send garbage before its answers.

    python -m plantpulse.integrations.dlt645.simulator --port 8899 --meter 000012345678 --kw 40

Run like that, each meter draws `--kw` kW: its energy registers grow every second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import tty
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from plantpulse.integrations.dlt645.data import GROUPS, DataItem, encode_timestamp
from plantpulse.integrations.dlt645.frame import (
    BROADCAST_ADDRESS,
    ERROR_BIT,
    FOLLOW_UP_BIT,
    REPLY_BIT,
    Frame,
    FrameError,
    FrameReader,
    Function,
    address_to_bytes,
    encode_frame,
    normalize_address,
)

_LOGGER = logging.getLogger(__name__)

ITEMS: dict[str, DataItem] = {item.key: item for items in GROUPS.values() for item in items}
NO_SUCH_DATA = 0x02
MAX_METER_KW = 80.0  # total active power is XX.XXXX kW with a sign bit


@dataclass
class SimulatedMeter:
    """One meter: its address, the raw data it holds per identifier, and its faults."""

    address: str
    values: dict[int, bytes] = field(default_factory=dict)
    silent: bool = False
    refuse: dict[int, int] = field(default_factory=dict)
    bad_checksum: bool = False
    # The most data bytes (after the identifier) in one reply; longer values use follow-ups.
    frame_size: int = 196
    _pending: dict[int, list[bytes]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.address = normalize_address(self.address)

    def set(self, key: str, value: float) -> None:
        """Hold `value` for a data item key (`voltage_a`, `energy_import`, ...)."""
        item = ITEMS[key]
        self.values[item.identifier] = item.format.encode(value)

    def set_many(self, values: dict[str, float]) -> None:
        """Hold several values by key."""
        for key, value in values.items():
            self.set(key, value)

    def set_daily_frozen(self, moment: datetime, totals: Iterable[float]) -> None:
        """Hold the last daily frozen import energy (total, tariffs...) and its time."""
        item = ITEMS["daily_frozen_import"]
        self.values[item.time_identifier or 0] = encode_timestamp(moment)
        self.values[item.identifier] = b"".join(item.format.encode(v) for v in totals)

    def answer(self, request: Frame) -> list[Frame]:
        """The frames this meter sends back to `request` (none when silent)."""
        if self.silent:
            return []
        function = request.function
        if function == Function.READ_ADDRESS:
            return [Frame(self.address, REPLY_BIT | function, address_to_bytes(self.address))]
        di = request.data[:4]
        if len(di) != 4 or function not in (Function.READ, Function.READ_FOLLOW_UP):
            return [self._error(function, 0x01)]
        identifier = int.from_bytes(di, "little")
        if function == Function.READ:
            if identifier in self.refuse:
                return [self._error(function, self.refuse[identifier])]
            if identifier not in self.values:
                return [self._error(function, NO_SUCH_DATA)]
            value = self.values[identifier]
            parts = [value[i:i + self.frame_size] for i in range(0, len(value), self.frame_size)]
            parts = parts or [b""]
            self._pending[identifier] = parts[1:]
            control = REPLY_BIT | function | (FOLLOW_UP_BIT if parts[1:] else 0)
            return [Frame(self.address, control, di + parts[0])]
        sequence = request.data[4] if len(request.data) > 4 else 0
        pending = self._pending.get(identifier, [])
        if not 1 <= sequence <= len(pending):
            return [self._error(function, NO_SUCH_DATA)]
        more = sequence < len(pending)
        control = REPLY_BIT | function | (FOLLOW_UP_BIT if more else 0)
        return [Frame(self.address, control, di + pending[sequence - 1] + bytes((sequence,)))]

    def _error(self, function: int, error: int) -> Frame:
        return Frame(self.address, REPLY_BIT | ERROR_BIT | function, bytes((error,)))


class MeterBus:
    """Meters sharing one RS-485 bus: turns received bytes into the bytes sent back."""

    def __init__(self, meters: Iterable[SimulatedMeter] = (), wake_up: bool = True) -> None:
        self.meters = {meter.address: meter for meter in meters}
        self.wake_up = wake_up
        self.garbage = b""
        # Some RS-485 converters echo what the master sends back to it.
        self.echo = False
        self.requests: list[Frame] = []
        self.rejected = 0

    def add(self, meter: SimulatedMeter) -> SimulatedMeter:
        """Put a meter on the bus."""
        self.meters[meter.address] = meter
        return meter

    def receive(self, reader: FrameReader, chunk: bytes) -> bytes:
        """The bytes the bus sends back after receiving `chunk`."""
        out = bytearray()
        for item in reader.feed(chunk):
            if isinstance(item, FrameError):
                self.rejected += 1
                continue
            if item.is_reply:
                continue
            self.requests.append(item)
            if self.echo:
                out += encode_frame(item)
            for reply in self._answer(item):
                raw = bytearray(encode_frame(reply, self.wake_up))
                if self.meters[reply.address].bad_checksum:
                    raw[-2] ^= 0x5A
                out += self.garbage + raw
        return bytes(out)

    def _answer(self, request: Frame) -> list[Frame]:
        if request.address == BROADCAST_ADDRESS:
            # Every meter answers a broadcast: with more than one, the answers collide.
            return self._only_meter_answer(request) if len(self.meters) == 1 else []
        meter = self.meters.get(request.address)
        return meter.answer(request) if meter is not None else []

    def _only_meter_answer(self, request: Frame) -> list[Frame]:
        (meter,) = self.meters.values()
        return meter.answer(request)


class GatewaySimulator:
    """A TCP transparent gateway in front of a meter bus, on 127.0.0.1 by default."""

    def __init__(self, bus: MeterBus) -> None:
        self.bus = bus
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def async_start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; returns the port."""
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def async_stop(self) -> None:
        """Close the listener and every connection."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        frames = FrameReader()
        try:
            while chunk := await reader.read(512):
                if answer := self.bus.receive(frames, chunk):
                    writer.write(answer)
                    await writer.drain()
        except OSError:
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


class PtySimulator:
    """The meter bus on a pseudo terminal: configure its `path` as a serial port."""

    def __init__(self, bus: MeterBus) -> None:
        self.bus = bus
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        self._frames = FrameReader()
        asyncio.get_running_loop().add_reader(self._master, self._on_readable)

    def _on_readable(self) -> None:
        try:
            chunk = os.read(self._master, 512)
        except (BlockingIOError, OSError):
            return
        if answer := self.bus.receive(self._frames, chunk):
            os.write(self._master, answer)

    def close(self) -> None:
        """Stop serving and close the terminal."""
        asyncio.get_running_loop().remove_reader(self._master)
        os.close(self._master)
        os.close(self._slave)


async def _run(port: int, addresses: list[str], kw: float) -> None:
    bus = MeterBus()
    meters = []
    for number, address in enumerate(addresses):
        meter = bus.add(SimulatedMeter(address))
        meter.set_many({
            "energy_export": 0.0, "voltage_a": 229.8, "voltage_b": 230.4, "voltage_c": 231.0,
            "current_a": 12.345, "current_b": 12.1, "current_c": 11.98,
            "reactive_power": 1.2, "apparent_power": 8.43, "power_factor": 0.985,
            "frequency": 50.01,
        })
        meters.append((meter, {"energy_import_sharp": 101.5, "energy_import_peak": 402.25,
                               "energy_import_flat": 352.17 + number,
                               "energy_import_valley": 350.5}))
    gateway = GatewaySimulator(bus)
    await gateway.async_start("0.0.0.0", port)
    print(f"DL/T 645 gateway simulator on port {gateway.port} with meters "
          f"{', '.join(bus.meters)} drawing {kw:g} kW each; Ctrl+C stops it")
    try:
        while True:  # the meters consume: `kw` counted into the flat tariff every second
            for meter, tariffs in meters:
                tariffs["energy_import_flat"] += kw / 3600
                total = sum(tariffs.values())
                meter.set_many({**tariffs, "energy_total": total, "energy_import": total,
                                "power": kw})
            await asyncio.sleep(1)
    finally:
        await gateway.async_stop()


def main(argv: list[str] | None = None) -> int:
    """Run a simulated gateway until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8899, help="TCP port (default 8899)")
    parser.add_argument("--meter", action="append", default=[], metavar="ADDRESS",
                        help="a meter address (12 digits); repeat for more meters")
    parser.add_argument("--kw", type=float, default=8.3456,
                        help="the load each meter draws: its energy grows by it (default 8.3456)")
    args = parser.parse_args(argv)
    if not 0 <= args.kw < MAX_METER_KW:
        parser.error(f"--kw: a meter shows at most {MAX_METER_KW - 0.0001:g} kW (XX.XXXX); "
                     "larger loads are read through CTs: set ct_ratio in the hub")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args.port, args.meter or ["000012345678"], args.kw))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
