"""A Modbus server full of meters, for tests, benchmarks and trying a config without hardware.

It is a real pymodbus server (TCP, RTU framing over TCP, or a serial port) whose devices hold
registers the caller sets, counts every request it answers, and can be told to misbehave per
device: answer with an exception code, stop answering, send garbage or a reply of the wrong
length.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from plantpulse.integrations.modbus.codec import encode

# pymodbus function codes per table, as the simulator's action sees them.
_TABLE_OF_CODE = {1: "coil", 2: "discrete_input", 3: "holding", 4: "input"}
_BLOCK_OF_TABLE = {"coil": "c", "discrete_input": "d", "holding": "h", "input": "i"}


class Fault(StrEnum):
    """How a simulated device misbehaves."""

    EXCEPTION = "exception"  # answers every read with exception code 4 (device failure)
    SILENT = "silent"  # does not answer at all
    GARBAGE = "garbage"  # answers with random bytes
    SHORT = "short"  # answers with one register less than asked


@dataclass(frozen=True)
class Request:
    """A read the server answered (or was told to drop)."""

    device_id: int
    table: str
    address: int
    count: int


@dataclass(frozen=True)
class SimRegion:
    """Registers `address`.. of one table that a simulated device defines."""

    table: str
    address: int
    count: int


class MeterSimulator:
    """Simulated devices behind one listening server; call `async_start` then read it."""

    def __init__(self, regions: Mapping[int, Sequence[SimRegion]], *, host: str = "127.0.0.1",
                 port: int = 0, framer: str = "socket", serial_port: str | None = None,
                 seed: int = 2026) -> None:
        self.requests: list[Request] = []
        self.faults: dict[int, Fault] = {}
        self._random = random.Random(seed)
        devices = [self._device(device_id, items) for device_id, items in regions.items()]
        framer_type = FramerType.RTU if framer == "rtu" else FramerType.SOCKET
        server: Any
        if serial_port is not None:
            server = ModbusSerialServer(devices, framer=FramerType.RTU, port=serial_port,
                                        baudrate=9600, trace_packet=self._trace_packet,
                                        trace_pdu=self._trace_pdu)
        else:
            server = ModbusTcpServer(devices, framer=framer_type, address=(host, port),
                                     trace_packet=self._trace_packet, trace_pdu=self._trace_pdu)
        self._server = server
        self._framer = "rtu" if serial_port is not None or framer == "rtu" else "socket"

    def _device(self, device_id: int, regions: Sequence[SimRegion]) -> SimDevice:
        blocks: dict[str, list[SimData]] = {table: [] for table in _BLOCK_OF_TABLE}
        for region in regions:
            bits = region.table in ("coil", "discrete_input")
            blocks[region.table].append(SimData(
                region.address, values=[False] * region.count if bits else [0] * region.count,
                datatype=DataType.BITS if bits else DataType.REGISTERS,
            ))
        for table, items in blocks.items():
            if not items:
                # pymodbus needs every table; an unused one holds a register nothing reads.
                bits = table in ("coil", "discrete_input")
                items.append(SimData(0xFFF0, values=[False] * 16 if bits else [0],
                                     datatype=DataType.BITS if bits else DataType.REGISTERS))
        return SimDevice(
            device_id,
            simdata=(blocks["coil"], blocks["discrete_input"], blocks["holding"], blocks["input"]),
            action=functools.partial(self._action, device_id),
        )

    async def _action(self, device_id: int, function_code: int, _start: int, address: int,
                      count: int, _registers: list[int], values: Any) -> ExcCodes | None:
        if values is None and function_code in _TABLE_OF_CODE:
            self.requests.append(Request(device_id, _TABLE_OF_CODE[function_code],
                                         address, count))
        if self.faults.get(device_id) == Fault.EXCEPTION:
            return ExcCodes.DEVICE_FAILURE
        return None

    def _device_of(self, packet: bytes) -> int:
        return packet[0] if self._framer == "rtu" else packet[6]

    def _trace_packet(self, sending: bool, packet: bytes) -> bytes:
        if not sending or not packet:
            return packet
        fault = self.faults.get(self._device_of(packet))
        if fault == Fault.SILENT:
            return b""
        if fault == Fault.GARBAGE:
            return bytes(self._random.randrange(256) for _ in range(len(packet)))
        return packet

    def _trace_pdu(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if sending and self.faults.get(pdu.dev_id) == Fault.SHORT and pdu.registers:
            pdu.registers = pdu.registers[:-1]
        return pdu

    @property
    def port(self) -> int:
        """The TCP port listened on (useful with port=0)."""
        transport = self._server.transport
        return int(transport.sockets[0].getsockname()[1])

    async def async_start(self) -> None:
        """Start listening."""
        await self._server.serve_forever(background=True)

    async def async_stop(self) -> None:
        """Stop listening and drop connections."""
        await self._server.shutdown()

    def _registers(self, device_id: int, table: str) -> tuple[int, list[int]]:
        start, _count, registers, _flags = (
            self._server.context.devices[device_id].block[_BLOCK_OF_TABLE[table]]
        )
        return start, registers

    def set_registers(self, device_id: int, table: str, address: int,
                      values: Sequence[int]) -> None:
        """Put raw 16-bit `values` at `address` of device `device_id`."""
        start, registers = self._registers(device_id, table)
        registers[address - start:address - start + len(values)] = list(values)

    def set_value(self, device_id: int, address: int, value: float, data_type: str = "float32",
                  word_order: str = "big", byte_order: str = "big",
                  table: str = "holding") -> None:
        """Put `value` encoded as `data_type` at `address`."""
        self.set_registers(device_id, table, address,
                           encode(value, data_type, word_order, byte_order))  # type: ignore[arg-type]

    def set_bit(self, device_id: int, table: str, address: int, value: bool) -> None:
        """Set coil or discrete input `address` (bit addressing: 16 per stored register)."""
        start, registers = self._registers(device_id, table)
        index = address // 16 - start
        mask = 1 << (address % 16)
        registers[index] = registers[index] | mask if value else registers[index] & ~mask
