"""Byte links to DL/T 645 meters: a TCP transparent gateway, or an RS-485 serial port.

Both connect lazily and reconnect on the next request after a failure. The serial port is
driven through termios (Linux), so no serial library is needed: DL/T 645-2007 speaks 8 data
bits, even parity, 1 stop bit ("字节格式"), 2400 baud by default on current meters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import termios
from abc import ABC, abstractmethod
from typing import Final

_LOGGER = logging.getLogger(__name__)

READ_SIZE: Final = 512


class Transport(ABC):
    """A half-duplex byte link to one bus of meters."""

    description: str

    @abstractmethod
    async def async_send(self, data: bytes) -> None:
        """Send bytes, connecting first when needed; raises ConnectionError."""

    @abstractmethod
    async def async_receive(self) -> bytes:
        """Wait for the next received bytes; raises ConnectionError when the link is gone."""

    @abstractmethod
    async def async_close(self) -> None:
        """Close the link (the next send opens it again)."""


class TcpTransport(Transport):
    """A TCP transparent gateway (serial server): frames go over the socket as they are."""

    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        self.host = host
        self.port = port
        self.description = f"{host}:{port}"
        self._connect_timeout = connect_timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _async_connect(self) -> None:
        try:
            async with asyncio.timeout(self._connect_timeout):
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        except (OSError, TimeoutError) as err:
            raise ConnectionError(
                f"cannot connect to the gateway at {self.description}: {err or 'timed out'}"
            ) from None
        _LOGGER.debug("Connected to DL/T 645 gateway %s", self.description)

    async def async_send(self, data: bytes) -> None:
        if self._writer is None or self._writer.is_closing():
            await self._async_connect()
        assert self._writer is not None
        try:
            self._writer.write(data)
            await self._writer.drain()
        except OSError as err:
            await self.async_close()
            raise ConnectionError(f"gateway {self.description} lost: {err}") from None

    async def async_receive(self) -> bytes:
        if self._reader is None:
            raise ConnectionError(f"gateway {self.description} is not connected")
        try:
            data = await self._reader.read(READ_SIZE)
        except OSError as err:
            await self.async_close()
            raise ConnectionError(f"gateway {self.description} lost: {err}") from None
        if not data:
            await self.async_close()
            raise ConnectionError(f"gateway {self.description} closed the connection")
        return data

    async def async_close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


_PARITY: Final = {"N": 0, "E": termios.PARENB, "O": termios.PARENB | termios.PARODD}
_BYTESIZE: Final = {5: termios.CS5, 6: termios.CS6, 7: termios.CS7, 8: termios.CS8}


class SerialTransport(Transport):
    """An RS-485 port (a USB adapter's /dev/ttyUSB0, a board's /dev/ttyS1) in raw mode."""

    def __init__(self, device: str, baudrate: int, parity: str = "E", bytesize: int = 8,
                 stopbits: int = 1) -> None:
        self.device = device
        self.description = device
        self._speed = baud_constant(baudrate)
        self._cflag = (termios.CREAD | termios.CLOCAL | _BYTESIZE[bytesize] | _PARITY[parity]
                       | (termios.CSTOPB if stopbits == 2 else 0))
        self._parity = parity
        self._fd: int | None = None

    def _open(self) -> int:
        try:
            fd = os.open(self.device, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError as err:
            raise ConnectionError(f"cannot open serial port {self.device}: {err}") from None
        try:
            attributes = termios.tcgetattr(fd)
            # Raw mode: no line editing, no echo, no translation; bytes with parity errors are
            # dropped (IGNPAR), so a damaged frame fails its checksum and is rejected.
            attributes[0] = termios.IGNBRK | (
                termios.INPCK | termios.IGNPAR if self._parity != "N" else 0
            )
            attributes[1] = 0
            attributes[2] = self._cflag
            attributes[3] = 0
            attributes[4] = attributes[5] = self._speed
            attributes[6][termios.VMIN] = 0
            attributes[6][termios.VTIME] = 0
            termios.tcsetattr(fd, termios.TCSANOW, attributes)
            termios.tcflush(fd, termios.TCIOFLUSH)
        except termios.error as err:
            os.close(fd)
            raise ConnectionError(f"{self.device} is not a serial port: {err}") from None
        _LOGGER.debug("Opened DL/T 645 serial port %s", self.device)
        return fd

    async def async_send(self, data: bytes) -> None:
        if self._fd is None:
            self._fd = self._open()
        loop = asyncio.get_running_loop()
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._fd, view)
            except BlockingIOError:
                ready = loop.create_future()
                loop.add_writer(self._fd, ready.set_result, None)
                try:
                    await ready
                finally:
                    loop.remove_writer(self._fd)
                continue
            except OSError as err:
                await self.async_close()
                raise ConnectionError(f"serial port {self.device} failed: {err}") from None
            view = view[written:]

    async def async_receive(self) -> bytes:
        if self._fd is None:
            raise ConnectionError(f"serial port {self.device} is not open")
        loop = asyncio.get_running_loop()
        fd = self._fd
        woken = False
        while True:
            try:
                data = os.read(fd, READ_SIZE)
            except BlockingIOError:
                data = None
            except OSError as err:
                await self.async_close()
                raise ConnectionError(f"serial port {self.device} failed: {err}") from None
            if data:
                return data
            if woken and data is not None:
                # Readable but nothing to read: the port hung up (adapter unplugged).
                await self.async_close()
                raise ConnectionError(f"serial port {self.device} hung up")
            woken = True
            ready = loop.create_future()
            loop.add_reader(fd, _set_once, ready)
            try:
                await ready
            finally:
                loop.remove_reader(fd)

    async def async_close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)


def baud_constant(baudrate: int) -> int:
    """The termios speed constant of a baud rate; raises ValueError for an unsupported one."""
    speed = getattr(termios, f"B{baudrate}", None)
    if speed is None:
        raise ValueError(f"unsupported baud rate {baudrate} (DL/T 645 meters use 1200-9600)")
    return int(speed)


def _set_once(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
