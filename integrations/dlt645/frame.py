"""DL/T 645-2007 frames: encoding, decoding and finding frames in a noisy byte stream.

A frame is `68 A0..A5 68 C L DATA CS 16` (DL/T 645-2007, "帧格式"):

- A0..A5: the meter address, 12 BCD digits, low byte first (`000012345678` is sent
  `78 56 34 12 00 00`); `AA` fills unused bytes and `AAAAAAAAAAAA` asks every meter on the bus
  (used to read the address of a single meter, control code 13H);
- C: the control code (D7 direction, D6 abnormal reply, D5 follow-up frame, D4..D0 function);
- L: the length of DATA; every DATA byte is sent plus 33H and received minus 33H;
- CS: the sum modulo 256 of every byte from the first 68H to the end of DATA;
- up to four FEH wake-up bytes may come before the first 68H ("前导字节").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

_LOGGER = logging.getLogger(__name__)

START: Final = 0x68
END: Final = 0x16
WAKE_UP: Final = b"\xfe\xfe\xfe\xfe"
DATA_OFFSET: Final = 0x33
HEADER_LENGTH: Final = 10  # 68, six address bytes, 68, C, L
MIN_FRAME_LENGTH: Final = HEADER_LENGTH + 2  # ... CS 16
MAX_DATA_LENGTH: Final = 255
ADDRESS_DIGITS: Final = 12
BROADCAST_ADDRESS: Final = "AAAAAAAAAAAA"

REPLY_BIT: Final = 0x80
ERROR_BIT: Final = 0x40
FOLLOW_UP_BIT: Final = 0x20
FUNCTION_MASK: Final = 0x1F


class Function(IntEnum):
    """Function codes (D4..D0 of the control code) this integration speaks."""

    READ = 0x11
    READ_FOLLOW_UP = 0x12
    READ_ADDRESS = 0x13


class FrameError(ValueError):
    """Bytes that are not a valid DL/T 645 frame (bad checksum, length, end byte...)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame; `data` is plain (the 33H offset already removed)."""

    address: str
    control: int
    data: bytes = b""

    @property
    def function(self) -> int:
        """The function code: 11H read, 12H read follow-up, 13H read address..."""
        return self.control & FUNCTION_MASK

    @property
    def is_reply(self) -> bool:
        """Sent by a meter (D7 = 1) rather than by the master station."""
        return bool(self.control & REPLY_BIT)

    @property
    def is_error(self) -> bool:
        """An abnormal reply (D6 = 1): its data is the error byte."""
        return bool(self.control & ERROR_BIT)

    @property
    def has_follow_up(self) -> bool:
        """More data follows in frames read with 12H (D5 = 1)."""
        return bool(self.control & FOLLOW_UP_BIT)


def normalize_address(address: str | int) -> str:
    """A meter address as 12 characters: BCD digits, with `A` for wildcard bytes.

    Shorter numbers are padded with leading zeros, as printed on the meter's nameplate.
    """
    text = str(address).strip().upper()
    if text.isdigit() and len(text) <= ADDRESS_DIGITS:
        text = text.zfill(ADDRESS_DIGITS)
    if len(text) != ADDRESS_DIGITS or any(
        pair != "AA" and not pair.isdigit() for pair in _pairs(text)
    ):
        raise ValueError(
            f"meter address {address!r} is not 12 decimal digits (the number on the meter's "
            "nameplate, e.g. \"000012345678\")"
        )
    return text


def address_to_bytes(address: str) -> bytes:
    """The six address bytes as sent: low byte first."""
    return bytes.fromhex(normalize_address(address))[::-1]


def address_from_bytes(raw: bytes) -> str:
    """The address text of six received address bytes."""
    return raw[::-1].hex().upper()


def checksum(data: bytes | bytearray | memoryview) -> int:
    """The frame checksum: the sum of the bytes modulo 256."""
    return sum(data) & 0xFF


def encode_frame(frame: Frame, wake_up: bool = False) -> bytes:
    """The bytes of `frame` on the wire, with the FE wake-up preamble when asked."""
    if len(frame.data) > MAX_DATA_LENGTH:
        raise ValueError(f"a frame carries at most {MAX_DATA_LENGTH} data bytes")
    body = bytearray((START,))
    body += address_to_bytes(frame.address)
    body += bytes((START, frame.control & 0xFF, len(frame.data)))
    body += bytes((byte + DATA_OFFSET) & 0xFF for byte in frame.data)
    body += bytes((checksum(body), END))
    return WAKE_UP + bytes(body) if wake_up else bytes(body)


def decode_frame(raw: bytes) -> Frame:
    """Decode exactly one frame (wake-up bytes before it allowed); raises FrameError."""
    start = 0
    while start < len(raw) and raw[start] == 0xFE:
        start += 1
    body = raw[start:]
    if len(body) < MIN_FRAME_LENGTH:
        raise FrameError(f"frame too short ({len(body)} bytes): {raw.hex(' ')}")
    if body[0] != START or body[7] != START:
        raise FrameError(f"frame does not start with 68 A0..A5 68: {raw.hex(' ')}")
    expected = MIN_FRAME_LENGTH + body[9]
    if len(body) != expected:
        raise FrameError(
            f"frame length {len(body)} does not match its length byte L={body[9]} "
            f"(expected {expected} bytes): {raw.hex(' ')}"
        )
    return _parse(body)


def _parse(body: bytes | bytearray) -> Frame:
    """Check the end byte and checksum of a frame whose length is right, and decode it."""
    if body[-1] != END:
        raise FrameError(f"frame does not end with 16: {bytes(body).hex(' ')}")
    if checksum(body[:-2]) != body[-2]:
        raise FrameError(
            f"bad checksum {body[-2]:02X} (computed {checksum(body[:-2]):02X}): "
            f"{bytes(body).hex(' ')}"
        )
    data = bytes((byte - DATA_OFFSET) & 0xFF for byte in body[HEADER_LENGTH:-2])
    return Frame(address_from_bytes(bytes(body[1:7])), body[8], data)


class FrameReader:
    """Finds frames in a byte stream: skips wake-up bytes and garbage, resyncs on 68.

    `feed()` returns the frames and the rejected frames (FrameError: complete frames with a
    bad checksum or end byte) found so far; a partial frame waits for more bytes.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.skipped = 0

    def clear(self) -> None:
        """Forget buffered bytes (before a new request: a late answer must not match it)."""
        self._buffer.clear()

    def feed(self, chunk: bytes) -> list[Frame | FrameError]:
        """Add received bytes; return what they completed."""
        self._buffer += chunk
        found: list[Frame | FrameError] = []
        buffer = self._buffer
        while True:
            start = buffer.find(START)
            if start < 0:
                self._skip(len(buffer))
                break
            self._skip(start)
            if len(buffer) < HEADER_LENGTH:
                break
            if buffer[7] != START:
                self._skip(1)
                continue
            length = MIN_FRAME_LENGTH + buffer[9]
            if len(buffer) < length:
                break
            if buffer[length - 1] != END:
                # Not a frame after all (a 68 inside garbage): look for the next 68.
                self._skip(1)
                continue
            try:
                found.append(_parse(buffer[:length]))
            except FrameError as err:
                _LOGGER.warning("Rejected a DL/T 645 frame: %s", err)
                found.append(err)
                self._skip(1)
                continue
            del buffer[:length]
        return found

    def _skip(self, count: int) -> None:
        if count <= 0:
            return
        skipped = self._buffer[:count]
        garbage = len(skipped) - skipped.count(0xFE)
        if garbage:
            _LOGGER.debug("Skipped %d bytes that are not a DL/T 645 frame: %s",
                          garbage, bytes(skipped).hex(" "))
        self.skipped += garbage
        del self._buffer[:count]


def _pairs(text: str) -> list[str]:
    return [text[index:index + 2] for index in range(0, len(text), 2)]
