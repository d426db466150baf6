"""Config validators that automation authors meet in every block: time periods."""

from __future__ import annotations

from datetime import timedelta

import pytest
import voluptuous as vol

from plantpulse.core.config.validation import time_period


@pytest.mark.parametrize(("written", "period"), [
    ("01:30", timedelta(hours=1, minutes=30)),  # HH:MM, as Home Assistant reads it
    ("00:05:00", timedelta(minutes=5)),
    ("1:02:03.5", timedelta(hours=1, minutes=2, seconds=3.5)),
    (" 00:00:10 ", timedelta(seconds=10)),
    ("90", timedelta(seconds=90)),
    (45, timedelta(seconds=45)),
    (0.5, timedelta(milliseconds=500)),
    ({"hours": 1, "minutes": 15}, timedelta(hours=1, minutes=15)),
    ({"milliseconds": 250}, timedelta(milliseconds=250)),
])
def test_time_periods_as_written(written: object, period: timedelta) -> None:
    assert time_period(written) == period


@pytest.mark.parametrize("written", ["soon", "1:2:3:4", ":30", True, {}, {"weeks": 1}, None])
def test_what_is_not_a_time_period(written: object) -> None:
    with pytest.raises(vol.Invalid):
        time_period(written)
