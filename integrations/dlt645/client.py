"""The master station of one DL/T 645 bus: one request at a time, replies matched, timeouts.

The bus is half-duplex and meters only answer: every exchange holds the bus lock, sends a
request and waits for the reply of the addressed meter with the same function (echoes of our
own request from RS-485 converters and stray frames are ignored). A read whose reply has the
follow-up flag continues with "读后续数据" (12H) requests carrying the frame sequence number
1, 2, ... until a reply without the flag (DL/T 645-2007, 读数据 / 读后续数据).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

from plantpulse.integrations.dlt645.frame import (
    BROADCAST_ADDRESS,
    Frame,
    FrameError,
    FrameReader,
    Function,
    encode_frame,
    normalize_address,
)
from plantpulse.integrations.dlt645.transport import Transport

_LOGGER = logging.getLogger(__name__)

MAX_FOLLOW_UPS: Final = 255

# The bits of the error byte (错误信息字 ERR) of an abnormal reply, low bit first.
ERROR_BITS: Final = (
    "other error",
    "no such data",
    "password wrong or not authorised",
    "baud rate cannot be changed",
    "too many annual time zones",
    "too many daily time periods",
    "too many tariffs",
)


class MeterError(Exception):
    """A failed exchange with a meter."""


class MeterTimeout(MeterError):
    """The meter did not answer in time (or the link to it is down)."""


class MeterRefused(MeterError):
    """The meter answered with an abnormal reply (D6 set) and an error byte."""

    def __init__(self, address: str, identifier: int | None, error: int) -> None:
        self.address = address
        self.identifier = identifier
        self.error = error
        what = f"data {identifier:08X}" if identifier is not None else "the request"
        super().__init__(f"meter {address} refused {what}: {describe_error(error)}")


class BadReply(MeterError):
    """The meter answered, but the answer was damaged or does not fit the request."""


def describe_error(error: int) -> str:
    """The meanings of the bits of an error byte, e.g. 'no such data (ERR 02)'."""
    meanings = [text for bit, text in enumerate(ERROR_BITS) if error & (1 << bit)]
    return f"{', '.join(meanings) or 'unspecified error'} (ERR {error:02X})"


class Dlt645Client:
    """Reads meters on one bus through a transport."""

    def __init__(self, transport: Transport, timeout: float, wake_up: bool = True) -> None:
        self.transport = transport
        self.timeout = timeout
        self.wake_up = wake_up
        self._reader = FrameReader()
        self._lock = asyncio.Lock()

    async def async_read(self, address: str, identifier: int) -> bytes:
        """The data a meter holds under a data identifier (all follow-up frames joined)."""
        address = normalize_address(address)
        di = identifier.to_bytes(4, "little")
        async with self._lock:
            reply = await self._async_exchange(Frame(address, Function.READ, di))
            payload = self._payload(reply, identifier, di)
            sequence = 0
            while reply.has_follow_up:
                sequence += 1
                if sequence > MAX_FOLLOW_UPS:
                    raise BadReply(f"meter {address} sent more than {MAX_FOLLOW_UPS} "
                                   f"follow-up frames for {identifier:08X}")
                request = Frame(address, Function.READ_FOLLOW_UP, di + bytes((sequence,)))
                reply = await self._async_exchange(request)
                part = self._payload(reply, identifier, di)
                if not part or part[-1] != sequence:
                    raise BadReply(f"meter {address} answered follow-up frame {sequence} of "
                                   f"{identifier:08X} with the wrong sequence number")
                payload += part[:-1]
        return payload

    async def async_read_address(self) -> str:
        """The address of the only meter on the bus (broadcast read-address, 13H)."""
        async with self._lock:
            reply = await self._async_exchange(Frame(BROADCAST_ADDRESS, Function.READ_ADDRESS))
        if reply.is_error:
            raise MeterRefused(reply.address, None, reply.data[0] if reply.data else 0)
        if len(reply.data) != 6:
            raise BadReply(f"read-address reply has {len(reply.data)} data bytes, not 6")
        return reply.address

    async def async_close(self) -> None:
        """Close the link."""
        async with self._lock:
            await self.transport.async_close()

    def _payload(self, reply: Frame, identifier: int, di: bytes) -> bytes:
        if reply.is_error:
            raise MeterRefused(reply.address, identifier, reply.data[0] if reply.data else 0)
        if reply.data[:4] != di:
            raise BadReply(f"meter {reply.address} answered data {reply.data[:4][::-1].hex()} "
                           f"to a request for {identifier:08X}")
        return reply.data[4:]

    async def _async_exchange(self, request: Frame) -> Frame:
        """Send `request` and wait for its reply; the caller holds the lock."""
        self._reader.clear()
        try:
            await self.transport.async_send(encode_frame(request, self.wake_up))
            async with asyncio.timeout(self.timeout):
                while True:
                    chunk = await self.transport.async_receive()
                    for item in self._reader.feed(chunk):
                        if isinstance(item, FrameError):
                            raise BadReply(f"reply from {self.transport.description} "
                                           f"rejected: {item}")
                        if _answers(item, request):
                            return item
        except TimeoutError:
            raise MeterTimeout(
                f"meter {request.address} did not answer within {self.timeout:g} s "
                f"(via {self.transport.description})"
            ) from None
        except ConnectionError as err:
            raise MeterTimeout(str(err)) from None


def _answers(reply: Frame, request: Frame) -> bool:
    """Whether `reply` is the meter's answer to `request` (not an echo or a stray frame)."""
    if not reply.is_reply or reply.function != request.function:
        return False
    return request.address == BROADCAST_ADDRESS or reply.address == request.address
