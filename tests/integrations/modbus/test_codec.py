"""The register decoder against `struct`: every data type in every word and byte order."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.modbus.codec import DATA_TYPES, decode, encode

# struct's little-endian layout is the full byte reversal (DCBA); word-swapped big-endian
# (CDAB) and byte-swapped (BADC) are built from struct's big-endian bytes by hand below.
_LITTLE = {name: "<" + fmt[1:] for name, (_, fmt) in DATA_TYPES.items()}


def _words(raw: bytes) -> list[int]:
    return [raw[index] << 8 | raw[index + 1] for index in range(0, len(raw), 2)]


def _layouts(data_type: str, value: float) -> dict[tuple[str, str], list[int]]:
    """Registers of `value` as a device would send them, per (word_order, byte_order)."""
    big = struct.pack(DATA_TYPES[data_type][1], value)
    byte_swapped = bytes(b for index in range(0, len(big), 2) for b in big[index:index + 2][::-1])
    return {
        ("big", "big"): _words(big),
        ("little", "big"): _words(big)[::-1],
        ("big", "little"): _words(byte_swapped),
        ("little", "little"): _words(struct.pack(_LITTLE[data_type], value)),
    }


def _same(left: float, right: float) -> bool:
    return (math.isnan(left) and math.isnan(right)) or left == right


def _values(data_type: str) -> st.SearchStrategy[float]:
    if data_type.startswith("float"):
        width = 32 if data_type == "float32" else 64
        return st.floats(width=width, allow_nan=True, allow_infinity=True)
    bits = 16 * DATA_TYPES[data_type][0]
    if data_type.startswith("u"):
        return st.integers(0, 2**bits - 1)
    return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


@pytest.mark.parametrize("data_type", sorted(DATA_TYPES))
@given(data=st.data())
def test_decode_matches_struct_in_every_order(data_type: str, data: st.DataObject) -> None:
    value = data.draw(_values(data_type))
    for (word_order, byte_order), registers in _layouts(data_type, value).items():
        assert all(0 <= register <= 0xFFFF for register in registers)
        assert _same(decode(registers, data_type, word_order, byte_order), value)
        assert encode(value, data_type, word_order, byte_order) == registers or math.isnan(value)


def test_known_float32_layouts() -> None:
    """230.5 V is 0x43668000: ABCD, CDAB, BADC and DCBA as meters send it."""
    assert decode([0x4366, 0x8000], "float32") == 230.5
    assert decode([0x8000, 0x4366], "float32", word_order="little") == 230.5
    assert decode([0x6643, 0x0080], "float32", byte_order="little") == 230.5
    assert decode([0x0080, 0x6643], "float32", "little", "little") == 230.5
    assert decode([0xFFFF], "int16") == -1
    assert decode([0xFFFF], "uint16") == 65535
    assert decode([0x0001, 0x0000], "uint32", word_order="little") == 1


def test_wrong_register_count_is_refused() -> None:
    with pytest.raises(ValueError, match="float32 takes 2 registers, got 1"):
        decode([0x4366], "float32")
