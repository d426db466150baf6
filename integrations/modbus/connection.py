"""One Modbus line or gateway: a pymodbus client shared by the devices behind it.

Requests on one connection go one at a time (pymodbus' client holds a lock per request, which
is what an RS-485 bus and most gateways need). A Modbus TCP line may open `connections`
connections (devices are spread over them by device id) when the devices behind it answer in
parallel. A connection is opened on first use and re-opened by the next request after it
drops; a device that does not answer costs its own requests a timeout and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.framer import FramerType

from plantpulse.integrations.modbus.const import TYPE_RTU_OVER_TCP, TYPE_SERIAL
from plantpulse.integrations.modbus.plan import COIL, DISCRETE_INPUT, HOLDING, Block

_LOGGER = logging.getLogger(__name__)

EXCEPTION_NAMES = {
    1: "illegal function", 2: "illegal data address", 3: "illegal data value",
    4: "device failure", 5: "acknowledge", 6: "device busy", 8: "memory parity error",
    10: "gateway path unavailable", 11: "gateway target failed to respond",
}


class ReadError(Exception):
    """A read that gave no usable answer: no connection, no reply, an exception code or a
    reply of the wrong length. The message says which."""


@dataclass(frozen=True)
class LineSettings:
    """How to reach the line: TCP (Modbus TCP or RTU framing) or a serial port."""

    name: str
    kind: str
    host: str | None = None
    port: int | str | None = None
    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    timeout: float = 2.0
    retries: int = 0
    connections: int = 1


class Line:
    """A connection to one gateway or serial bus, read by every device behind it."""

    def __init__(self, settings: LineSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self.requests = 0
        count = 1 if settings.kind == TYPE_SERIAL else settings.connections
        self._clients = [self._make_client(settings) for _ in range(count)]
        self._connect_locks = [asyncio.Lock() for _ in range(count)]

    @staticmethod
    def _make_client(settings: LineSettings) -> Any:
        # reconnect_delay=0: no background reconnect loop; the next read reconnects.
        common: dict[str, Any] = {
            "timeout": settings.timeout, "retries": settings.retries, "reconnect_delay": 0,
        }
        if settings.kind == TYPE_SERIAL:
            return AsyncModbusSerialClient(
                str(settings.port), framer=FramerType.RTU, baudrate=settings.baudrate,
                bytesize=settings.bytesize, parity=settings.parity,
                stopbits=settings.stopbits, **common,
            )
        framer = FramerType.RTU if settings.kind == TYPE_RTU_OVER_TCP else FramerType.SOCKET
        return AsyncModbusTcpClient(str(settings.host), port=int(settings.port or 502),
                                    framer=framer, **common)

    async def _async_client(self, device_id: int) -> Any:
        index = device_id % len(self._clients)
        client = self._clients[index]
        async with self._connect_locks[index]:
            if client.connected:
                return client
            if not await client.connect():
                where = (self.settings.port if self.settings.kind == TYPE_SERIAL
                         else f"{self.settings.host}:{self.settings.port}")
                raise ReadError(f"cannot connect to {where}")
            _LOGGER.info("Connected to Modbus line %s", self.name)
        return client

    async def async_read(self, device_id: int, block: Block) -> list[int] | list[bool]:
        """The registers or bits of `block` from device `device_id`; raises ReadError."""
        client = await self._async_client(device_id)
        reader = {
            HOLDING: client.read_holding_registers,
            COIL: client.read_coils,
            DISCRETE_INPUT: client.read_discrete_inputs,
        }.get(block.table, client.read_input_registers)
        self.requests += 1
        try:
            response = await reader(block.address, count=block.count, device_id=device_id)
        except ModbusException as err:
            raise ReadError(f"no answer to reading {block.count} {block.table} items at "
                            f"{block.address:#06x}: {err}") from err
        # Let the next request waiting for the line go out before this answer is decoded and
        # its entities written: the line works while the hub does.
        await asyncio.sleep(0)
        if response.isError():
            code = getattr(response, "exception_code", None)
            raise ReadError(f"exception code {code} ({EXCEPTION_NAMES.get(code, 'unknown')}) "
                            f"reading {block.table} {block.address:#06x}")
        values = response.bits if block.table in (COIL, DISCRETE_INPUT) else response.registers
        if len(values) < block.count or (
            block.table not in (COIL, DISCRETE_INPUT) and len(values) != block.count
        ):
            raise ReadError(f"asked for {block.count} {block.table} items at "
                            f"{block.address:#06x}, got {len(values)}")
        return values[:block.count]

    def close(self) -> None:
        """Close the connections."""
        for client in self._clients:
            client.close()
