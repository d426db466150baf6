"""DL/T 645-2007 data identifiers and their formats: what each value means and how it is coded.

Values are BCD, low byte first, with the decimal point where the standard's format puts it
(`XXX.X` is 2 bytes with one decimal). Source: DL/T 645-2007 附录 A, 表 A.1 电能量数据标识编码表
(energy: `XXXXXX.XX`, 4 bytes, kWh; for combined energy 组合有功 the highest bit is the sign),
表 A.3 变量数据标识编码表 (voltage `XXX.X` V; current `XXX.XXX` A; active, reactive and
apparent power `XX.XXXX` kW/kvar/kVA; power factor `X.XXX`; frequency `XX.XX` Hz; for current,
power and power factor the highest bit gives the direction, 0 positive and 1 negative) and
表 A.6 冻结数据标识编码表 (daily frozen time 05060001 `YYMMDDhhmm`, daily frozen forward active
energy 05060101 as a block: total, then tariffs 1..k, 4 bytes each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Final

from plantpulse.core.platforms.sensor import SensorDeviceClass, StateClass

SIGN_BIT: Final = 0x80


class DataError(ValueError):
    """A value whose bytes are not what its format says (not BCD, wrong length)."""


@dataclass(frozen=True, slots=True)
class DataFormat:
    """A BCD number of `length` bytes with `decimals` decimals; `signed`: top bit is the sign."""

    length: int
    decimals: int
    signed: bool = False

    @property
    def largest(self) -> float:
        """The largest magnitude the format holds."""
        digits = 2 * self.length
        top = 7 if self.signed else 9
        whole = int(str(top) + "9" * (digits - 1))
        return whole / 10**self.decimals

    def decode(self, raw: bytes) -> float:
        """The value of `raw` (low byte first)."""
        if len(raw) != self.length:
            raise DataError(f"expected {self.length} bytes, got {len(raw)}: {raw.hex(' ')}")
        data = bytearray(raw)
        negative = False
        if self.signed:
            negative = bool(data[-1] & SIGN_BIT)
            data[-1] &= ~SIGN_BIT & 0xFF
        number = _bcd_to_int(bytes(data))
        value = number / 10**self.decimals
        return -value if negative else value

    def encode(self, value: float) -> bytes:
        """The bytes of `value` (for the simulator and tests); raises ValueError if it can't."""
        if value < 0 and not self.signed:
            raise ValueError(f"{value} is negative; this format has no sign")
        number = round(abs(value) * 10**self.decimals)
        if number / 10**self.decimals > self.largest:
            raise ValueError(f"{value} does not fit in {self.length} BCD bytes")
        data = bytearray(bytes.fromhex(f"{number:0{2 * self.length}d}")[::-1])
        if self.signed and value < 0 and number:
            data[-1] |= SIGN_BIT
        return bytes(data)


def decode_timestamp(raw: bytes, zone: tzinfo) -> datetime:
    """A `YYMMDDhhmm` time (5 BCD bytes, low byte first) in the meter's (the site's) zone."""
    if len(raw) != 5:
        raise DataError(f"a YYMMDDhhmm time has 5 bytes, got {len(raw)}: {raw.hex(' ')}")
    digits = f"{_bcd_to_int(raw):010d}"
    try:
        return datetime(
            2000 + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]),
            int(digits[6:8]), int(digits[8:10]), tzinfo=zone,
        )
    except ValueError as err:
        raise DataError(f"not a time: {raw.hex(' ')} ({err})") from None


def encode_timestamp(moment: datetime) -> bytes:
    """The `YYMMDDhhmm` bytes of `moment` as the meter keeps it (its local time)."""
    text = moment.strftime("%y%m%d%H%M")
    return bytes.fromhex(text)[::-1]


def _bcd_to_int(raw: bytes) -> int:
    text = raw[::-1].hex()
    if not text.isdigit():
        raise DataError(f"not BCD: {raw.hex(' ')}")
    return int(text)


class Scale(StrEnum):
    """Which transformer ratio multiplies a value the meter reports on the secondary side."""

    NONE = "none"
    CURRENT = "ct"
    VOLTAGE = "pt"
    POWER = "ct_pt"


ENERGY: Final = DataFormat(4, 2)
COMBINED_ENERGY: Final = DataFormat(4, 2, signed=True)
VOLTAGE: Final = DataFormat(2, 1)
CURRENT: Final = DataFormat(3, 3, signed=True)
POWER: Final = DataFormat(3, 4, signed=True)
POWER_FACTOR: Final = DataFormat(2, 3, signed=True)
FREQUENCY: Final = DataFormat(2, 2)

DAILY_FROZEN_TIME: Final = 0x05060001


@dataclass(frozen=True, slots=True)
class DataItem:
    """One value a meter reports, and the sensor it becomes."""

    key: str
    identifier: int
    format: DataFormat
    name_zh: str
    name_en: str
    device_class: SensorDeviceClass | None
    state_class: StateClass
    unit: str | None
    scale: Scale
    # Blocks (数据块) carry more values after this one; only the first is taken.
    block: bool = False
    # The identifier of the time the meter stamped the value with (frozen data).
    time_identifier: int | None = None

    def name(self, language: str) -> str:
        """The sensor name in the site language."""
        return self.name_zh if language.startswith("zh") else self.name_en

    def decode(self, payload: bytes) -> float:
        """The value in a read reply's data (after the identifier)."""
        if self.block and len(payload) >= self.format.length:
            payload = payload[:self.format.length]
        return self.format.decode(payload)


def _energy(key: str, identifier: int, name_zh: str, name_en: str,
            data_format: DataFormat = ENERGY, *, block: bool = False,
            time_identifier: int | None = None) -> DataItem:
    return DataItem(key, identifier, data_format, name_zh, name_en, SensorDeviceClass.ENERGY,
                    StateClass.TOTAL_INCREASING, "kWh", Scale.POWER, block, time_identifier)


def _measurement(key: str, identifier: int, data_format: DataFormat, name_zh: str,
                 name_en: str, device_class: SensorDeviceClass | None, unit: str | None,
                 scale: Scale) -> DataItem:
    return DataItem(key, identifier, data_format, name_zh, name_en, device_class,
                    StateClass.MEASUREMENT, unit, scale)


# Tariff numbers as the State Grid meters use them: 1 sharp, 2 peak, 3 flat, 4 valley.
_TARIFFS: Final = (("尖", "sharp"), ("峰", "peak"), ("平", "flat"), ("谷", "valley"))

GROUPS: Final[dict[str, tuple[DataItem, ...]]] = {
    "energy_total": (
        _energy("energy_total", 0x00000000, "组合有功总电能", "Combined active energy",
                COMBINED_ENERGY),
    ),
    "energy_import": (
        _energy("energy_import", 0x00010000, "正向有功总电能", "Active energy import"),
    ),
    "energy_import_tariffs": tuple(
        _energy(f"energy_import_{en}", 0x00010000 + 0x100 * number,
                f"正向有功{zh}电能", f"Active energy import {en}")
        for number, (zh, en) in enumerate(_TARIFFS, start=1)
    ),
    "energy_export": (
        _energy("energy_export", 0x00020000, "反向有功总电能", "Active energy export"),
    ),
    "voltage": tuple(
        _measurement(f"voltage_{phase.lower()}", 0x02010000 + 0x100 * number, VOLTAGE,
                     f"{phase}相电压", f"Voltage {phase}", SensorDeviceClass.VOLTAGE, "V",
                     Scale.VOLTAGE)
        for number, phase in enumerate("ABC", start=1)
    ),
    "current": tuple(
        _measurement(f"current_{phase.lower()}", 0x02020000 + 0x100 * number, CURRENT,
                     f"{phase}相电流", f"Current {phase}", SensorDeviceClass.CURRENT, "A",
                     Scale.CURRENT)
        for number, phase in enumerate("ABC", start=1)
    ),
    "power": (
        _measurement("power", 0x02030000, POWER, "总有功功率", "Active power",
                     SensorDeviceClass.POWER, "kW", Scale.POWER),
    ),
    "reactive_power": (
        _measurement("reactive_power", 0x02040000, POWER, "总无功功率", "Reactive power",
                     None, "kvar", Scale.POWER),
    ),
    "apparent_power": (
        _measurement("apparent_power", 0x02050000, POWER, "总视在功率", "Apparent power",
                     None, "kVA", Scale.POWER),
    ),
    "power_factor": (
        _measurement("power_factor", 0x02060000, POWER_FACTOR, "总功率因数", "Power factor",
                     SensorDeviceClass.POWER_FACTOR, None, Scale.NONE),
    ),
    "frequency": (
        _measurement("frequency", 0x02800002, FREQUENCY, "电网频率", "Frequency",
                     SensorDeviceClass.FREQUENCY, "Hz", Scale.NONE),
    ),
    "daily_frozen": (
        _energy("daily_frozen_import", 0x05060101, "日冻结正向有功总电能",
                "Daily frozen active energy import", block=True,
                time_identifier=DAILY_FROZEN_TIME),
    ),
}

DEFAULT_GROUPS: Final = (
    "energy_total", "energy_import", "voltage", "current", "power", "power_factor", "frequency",
)


def items_of(groups: list[str] | tuple[str, ...]) -> tuple[DataItem, ...]:
    """The data items of the named groups, in order, each once."""
    seen: dict[str, DataItem] = {}
    for group in groups:
        for item in GROUPS[group]:
            seen.setdefault(item.key, item)
    return tuple(seen.values())
