"""Numbers written with digits, read in Chinese: 42 → 四十二, 3.05 → 三点零五, 2026年 → 二零二六年.

Rules (what a listener on a plant floor expects from an announcement):
- whole numbers below 10^12 by value, grouped in 万 and 亿, with 零 for skipped places and a
  leading 一十 shortened to 十 (15 → 十五, 150000 → 十五万); 2 is always 二, never 两;
- decimals digit by digit after 点 (42.50 → 四十二点五零, as written);
- longer numbers and numbers with a leading zero (codes, phone numbers) digit by digit;
- a minus sign is 负, a percent sign 百分之 before the number.
"""

from __future__ import annotations

from typing import Final

DIGITS: Final = "零一二三四五六七八九"
_PLACES: Final = ("", "十", "百", "千")
_GROUPS: Final = ("", "万", "亿")
# Above this a number is read digit by digit: 10^12 has no short common reading.
MAX_BY_VALUE: Final = 10**12 - 1


def digit_by_digit(digits: str) -> str:
    """Each digit on its own: '0571' → 零五七一."""
    return "".join(DIGITS[int(digit)] for digit in digits)


def _group_reading(value: int) -> str:
    """A number from 1 to 9999 with 零 where places in between are empty."""
    parts: list[str] = []
    zero_pending = False
    for place in range(3, -1, -1):
        digit = value // 10**place % 10
        if digit == 0:
            zero_pending = bool(parts)
            continue
        if zero_pending:
            parts.append(DIGITS[0])
            zero_pending = False
        parts.append(DIGITS[digit] + _PLACES[place])
    return "".join(parts)


def integer_reading(value: int) -> str:
    """A whole number from 0 to MAX_BY_VALUE by value: 1001 → 一千零一, 15 → 十五."""
    if not 0 <= value <= MAX_BY_VALUE:
        raise ValueError(f"{value} is outside 0..{MAX_BY_VALUE}")
    if value == 0:
        return DIGITS[0]
    parts: list[str] = []
    zero_pending = False
    for index in range(len(_GROUPS) - 1, -1, -1):
        group = value // 10000**index % 10000
        if group == 0:
            zero_pending = bool(parts)
            continue
        if parts and (zero_pending or group < 1000):
            parts.append(DIGITS[0])
        zero_pending = False
        parts.append(_group_reading(group) + _GROUPS[index])
    text = "".join(parts)
    return text[1:] if text.startswith("一十") else text


def number_reading(integer_digits: str, fraction_digits: str = "", negative: bool = False,
                   percent: bool = False) -> str:
    """The Chinese reading of a number given by its digits (no separators)."""
    if (len(integer_digits) > 1 and integer_digits.startswith("0")) or (
        int(integer_digits) > MAX_BY_VALUE
    ):
        text = digit_by_digit(integer_digits)
    else:
        text = integer_reading(int(integer_digits))
    if fraction_digits:
        text += "点" + digit_by_digit(fraction_digits)
    if percent:
        text = "百分之" + text
    return "负" + text if negative else text
