"""Numbers read in Chinese: examples, and every whole number reads back to its value."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.speaker.numbers import (
    DIGITS,
    MAX_BY_VALUE,
    integer_reading,
    number_reading,
)


@pytest.mark.parametrize(("value", "reading"), [
    (0, "零"), (7, "七"), (10, "十"), (15, "十五"), (20, "二十"), (42, "四十二"),
    (100, "一百"), (101, "一百零一"), (110, "一百一十"), (1001, "一千零一"),
    (1010, "一千零一十"), (10000, "一万"), (10001, "一万零一"), (150000, "十五万"),
    (100010000, "一亿零一万"), (100000001, "一亿零一"),
    (1234567890, "十二亿三千四百五十六万七千八百九十"),
])
def test_whole_numbers_read_by_value(value: int, reading: str) -> None:
    assert integer_reading(value) == reading


def test_decimals_signs_percent_and_codes() -> None:
    assert number_reading("42", "50") == "四十二点五零"
    assert number_reading("3", "05") == "三点零五"
    assert number_reading("5", negative=True) == "负五"
    assert number_reading("85", percent=True) == "百分之八十五"
    assert number_reading("5", negative=True, percent=True) == "负百分之五"
    # A leading zero or more than 12 digits: a code, read digit by digit.
    assert number_reading("0571") == "零五七一"
    assert number_reading("1234567890123") == "一二三四五六七八九零一二三"


def test_out_of_range_refused() -> None:
    with pytest.raises(ValueError, match="outside"):
        integer_reading(MAX_BY_VALUE + 1)


_PLACES = {"十": 10, "百": 100, "千": 1000}
_GROUPS = {"万": 10**4, "亿": 10**8}


def parse_chinese(text: str) -> int:
    """A reader of Chinese numerals, to check that every reading means its number."""
    total = group = digit = 0
    if text.startswith("十"):
        text = "一" + text
    for char in text:
        if char in DIGITS:
            digit = DIGITS.index(char)
        elif char in _PLACES:
            group += digit * _PLACES[char]
            digit = 0
        else:
            total += (group + digit) * _GROUPS[char]
            group = digit = 0
    return total + group + digit


@given(st.integers(min_value=0, max_value=MAX_BY_VALUE))
def test_every_reading_means_its_number(value: int) -> None:
    reading = integer_reading(value)
    assert parse_chinese(reading) == value
    if value:
        assert "零零" not in reading
        assert not reading.endswith("零")


@given(st.text(alphabet="0123456789", min_size=1, max_size=20),
       st.text(alphabet="0123456789", max_size=6), st.booleans(), st.booleans())
def test_any_digits_give_a_reading_of_number_characters(
    integer: str, fraction: str, negative: bool, percent: bool
) -> None:
    reading = number_reading(integer, fraction, negative, percent)
    assert reading
    assert set(reading) <= set(DIGITS) | set("十百千万亿点负百分之")
