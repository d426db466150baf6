"""Register values to numbers: data types with word and byte order, as meters lay them out.

A value of N registers arrives as N 16-bit words. `word_order: big` means the most
significant word comes first; `byte_order: big` means each word's high byte comes first
(Modbus' own order). pymodbus 3.16 converts word order only, so both are done here:
float32 "ABCD" is big/big, "CDAB" little/big, "BADC" big/little, "DCBA" little/little.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final, Literal

Order = Literal["big", "little"]

# Data type -> (registers, struct format of the big-endian value).
DATA_TYPES: Final[dict[str, tuple[int, str]]] = {
    "int16": (1, ">h"),
    "uint16": (1, ">H"),
    "int32": (2, ">i"),
    "uint32": (2, ">I"),
    "float32": (2, ">f"),
    "int64": (4, ">q"),
    "uint64": (4, ">Q"),
    "float64": (4, ">d"),
}
ORDERS: Final = ("big", "little")

_STRUCTS: Final = {name: struct.Struct(fmt) for name, (_, fmt) in DATA_TYPES.items()}
_WORDS: Final = {count: struct.Struct(f">{count}H") for count in (1, 2, 4)}
_SWAPPED_WORDS: Final = {count: struct.Struct(f"<{count}H") for count in (1, 2, 4)}


def register_count(data_type: str) -> int:
    """How many 16-bit registers a value of `data_type` takes."""
    return DATA_TYPES[data_type][0]


def decode(
    registers: Sequence[int], data_type: str, word_order: Order = "big",
    byte_order: Order = "big",
) -> int | float:
    """The value held in `registers` (exactly `register_count(data_type)` of them)."""
    count = DATA_TYPES[data_type][0]
    if len(registers) != count:
        raise ValueError(f"{data_type} takes {count} registers, got {len(registers)}")
    words = registers if word_order == "big" else registers[::-1]
    packer = _WORDS[count] if byte_order == "big" else _SWAPPED_WORDS[count]
    return _STRUCTS[data_type].unpack(packer.pack(*words))[0]


def encode(
    value: float, data_type: str, word_order: Order = "big", byte_order: Order = "big",
) -> list[int]:
    """The registers a device holding `value` would send (for simulators and writes)."""
    count = DATA_TYPES[data_type][0]
    raw = _STRUCTS[data_type].pack(value)
    packer = _WORDS[count] if byte_order == "big" else _SWAPPED_WORDS[count]
    words = list(packer.unpack(raw))
    return words if word_order == "big" else words[::-1]
