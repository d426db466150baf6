"""DL/T 645-2007 value formats: BCD with decimals and sign bits, times, the data item table."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.dlt645.data import (
    COMBINED_ENERGY,
    CURRENT,
    ENERGY,
    FREQUENCY,
    GROUPS,
    POWER,
    POWER_FACTOR,
    VOLTAGE,
    DataError,
    DataFormat,
    decode_timestamp,
    encode_timestamp,
    items_of,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("data_format", "wire", "value"), [
    (ENERGY, "42 06 12 00", 1206.42),             # XXXXXX.XX kWh
    (VOLTAGE, "01 10", 100.1),                    # XXX.X V
    (VOLTAGE, "94 23", 239.4),
    (CURRENT, "45 23 01", 12.345),                # XXX.XXX A
    (CURRENT, "45 23 81", -12.345),               # top bit set: reverse direction
    (POWER, "56 34 08", 8.3456),                  # XX.XXXX kW
    (POWER, "56 34 88", -8.3456),
    (POWER_FACTOR, "85 09", 0.985),               # X.XXX
    (POWER_FACTOR, "85 89", -0.985),
    (FREQUENCY, "01 50", 50.01),                  # XX.XX Hz
    (COMBINED_ENERGY, "00 00 00 80", -0.0),
    (COMBINED_ENERGY, "99 99 99 79", 799999.99),
])
def test_known_values(data_format: DataFormat, wire: str, value: float) -> None:
    assert data_format.decode(bytes.fromhex(wire)) == value
    assert data_format.encode(value) == bytes.fromhex(wire.replace("80", "00"))


def test_bytes_that_are_not_bcd_or_the_wrong_length_are_refused() -> None:
    with pytest.raises(DataError, match="not BCD"):
        ENERGY.decode(b"\xff\xff\xff\xff")
    with pytest.raises(DataError, match="expected 2 bytes, got 3"):
        VOLTAGE.decode(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="negative"):
        VOLTAGE.encode(-1)
    with pytest.raises(ValueError, match="does not fit"):
        CURRENT.encode(800)


@given(st.sampled_from([ENERGY, COMBINED_ENERGY, VOLTAGE, CURRENT, POWER, POWER_FACTOR,
                        FREQUENCY]), st.data())
def test_encode_decode_round_trip(data_format: DataFormat, data: st.DataObject) -> None:
    scale = 10**data_format.decimals
    largest = round(data_format.largest * scale)
    smallest = -largest if data_format.signed else 0
    value = data.draw(st.integers(smallest, largest)) / scale
    assert data_format.decode(data_format.encode(value)) == value


def test_frozen_time_is_yymmddhhmm_in_the_meters_zone() -> None:
    moment = decode_timestamp(bytes.fromhex("00 00 02 03 26"), SHANGHAI)
    assert moment == datetime(2026, 3, 2, 0, 0, tzinfo=SHANGHAI)
    assert encode_timestamp(moment) == bytes.fromhex("00 00 02 03 26")
    with pytest.raises(DataError, match="not a time"):
        decode_timestamp(bytes.fromhex("00 00 32 13 26"), SHANGHAI)


def test_groups_cover_the_identifiers_the_issue_names() -> None:
    identifiers = {item.identifier for items in GROUPS.values() for item in items}
    assert identifiers >= {
        0x00000000, 0x00010000, 0x00010100, 0x00010200, 0x00010300, 0x00010400, 0x00020000,
        0x02010100, 0x02010200, 0x02010300, 0x02020100, 0x02020200, 0x02020300, 0x02030000,
        0x02040000, 0x02050000, 0x02060000, 0x02800002,
    }
    tariffs = [item.key for item in items_of(["energy_import_tariffs", "energy_import_tariffs"])]
    assert tariffs == ["energy_import_sharp", "energy_import_peak", "energy_import_flat",
                       "energy_import_valley"]
