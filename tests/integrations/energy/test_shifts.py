"""Production days, shifts crossing midnight and team rotations (三班倒, 四班三倒)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import voluptuous as vol
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.integrations.energy.shifts import (
    DEFAULT_CALENDAR,
    ShiftCalendar,
    calendar_schema,
    standard_cycle,
)
from tests.conftest import HubFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
THREE_SHIFTS = [{"name": "早班", "from": "08:00", "to": "16:00"},
                {"name": "中班", "from": "16:00", "to": "24:00"},
                {"name": "夜班", "from": "00:00", "to": "08:00"}]
FOUR_TEAMS = {"anchor": "2026-03-01", "teams": ["甲", "乙", "丙", "丁"], "days_per_shift": 2}


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def calendar(**block: object) -> ShiftCalendar:
    return calendar_schema({"shifts": THREE_SHIFTS, **block})


def test_production_day_starts_at_eight() -> None:
    cal = calendar(day_start="08:00")
    assert cal.production_day(local(2026, 3, 2, 8, 0), SHANGHAI) == date(2026, 3, 2)
    assert cal.production_day(local(2026, 3, 3, 7, 59), SHANGHAI) == date(2026, 3, 2)
    assert cal.production_day(local(2026, 3, 3, 8, 0), SHANGHAI) == date(2026, 3, 3)
    # A UTC time is read in the site's zone: 2026-03-02 23:30 UTC is 03-03 07:30 there.
    assert cal.production_day(datetime(2026, 3, 2, 23, 30, tzinfo=UTC),
                              SHANGHAI) == date(2026, 3, 2)
    assert cal.day_begins(date(2026, 3, 2), SHANGHAI) == local(2026, 3, 2, 8)


def test_the_night_shift_after_midnight_belongs_to_the_day_before() -> None:
    cal = calendar(day_start="08:00")
    slots = cal.slots(date(2026, 3, 2), date(2026, 3, 2), SHANGHAI)
    assert [(slot.shift.name, slot.start, slot.end) for slot in slots] == [
        ("早班", local(2026, 3, 2, 8), local(2026, 3, 2, 16)),
        ("中班", local(2026, 3, 2, 16), local(2026, 3, 3, 0)),
        ("夜班", local(2026, 3, 3, 0), local(2026, 3, 3, 8)),
    ]
    night = cal.slot_at(local(2026, 3, 3, 2, 30), SHANGHAI)
    assert (night.day, night.shift.name) == (date(2026, 3, 2), "夜班")
    assert cal.slot_at(local(2026, 3, 3, 8), SHANGHAI).shift.name == "早班"


def test_day_start_defaults_to_the_first_shift_and_may_be_any_shift_start() -> None:
    assert calendar().day_start == 8 * 60
    cal = calendar(day_start="00:00")  # the calendar day: the night shift comes first
    assert [shift.name for shift in cal.shifts] == ["夜班", "早班", "中班"]
    slots = cal.slots(date(2026, 3, 2), date(2026, 3, 2), SHANGHAI)
    assert slots[0].start == local(2026, 3, 2, 0) and slots[-1].end == local(2026, 3, 3, 0)


def test_a_shift_across_midnight() -> None:
    cal = calendar_schema({"shifts": [{"name": "夜", "from": "22:00", "to": "06:00"},
                                      {"name": "早", "from": "06:00", "to": "14:00"},
                                      {"name": "中", "from": "14:00", "to": "22:00"}],
                           "day_start": "06:00"})
    slots = cal.slots(date(2026, 3, 2), date(2026, 3, 2), SHANGHAI)
    assert [(slot.shift.name, slot.start.hour, slot.end) for slot in slots] == [
        ("早", 6, local(2026, 3, 2, 14)), ("中", 14, local(2026, 3, 2, 22)),
        ("夜", 22, local(2026, 3, 3, 6))]
    assert cal.slot_at(local(2026, 3, 3, 5, 59), SHANGHAI).shift.name == "夜"
    assert cal.production_day(local(2026, 3, 3, 5, 59), SHANGHAI) == date(2026, 3, 2)


def test_four_teams_three_shifts() -> None:
    cal = calendar(rotation=FOUR_TEAMS)
    assert cal.teams == ["甲", "丁", "丙", "乙"]  # in order of first appearance
    # 甲 works 早早中中夜夜 then rests two days; the others follow two days apart.
    on_duty = {}
    for offset in range(8):
        day = date(2026, 3, 1) + timedelta(days=offset)
        on_duty[offset] = [slot.team for slot in cal.slots(day, day, SHANGHAI)]
    assert on_duty == {0: ["甲", "丁", "丙"], 1: ["甲", "丁", "丙"],
                       2: ["乙", "甲", "丁"], 3: ["乙", "甲", "丁"],
                       4: ["丙", "乙", "甲"], 5: ["丙", "乙", "甲"],
                       6: ["丁", "丙", "乙"], 7: ["丁", "丙", "乙"]}
    # The cycle repeats every 8 days, also before the anchor.
    assert cal.rotation is not None
    assert cal.rotation.team(date(2026, 3, 9), 0) == "甲"
    assert cal.rotation.team(date(2026, 2, 27), 0) == "丁"
    # Which team is on at a moment: 03-04 03:00 is the night shift of production day 03-03.
    assert cal.slot_at(local(2026, 3, 4, 3), SHANGHAI).team == "丁"


def test_three_teams_three_shifts_and_explicit_cycles() -> None:
    cal = calendar(rotation={"anchor": "2026-03-01", "teams": ["A", "B", "C"]})
    assert [slot.team for slot in cal.slots(date(2026, 3, 1), date(2026, 3, 2), SHANGHAI)] == [
        "A", "C", "B", "B", "A", "C"]
    fixed = calendar(rotation={"anchor": "2026-01-01", "cycle": [["一", "二", None]]})
    assert [slot.team for slot in fixed.slots(date(2026, 5, 5), date(2026, 5, 5),
                                              SHANGHAI)] == ["一", "二", None]


@given(teams=st.integers(min_value=3, max_value=6), shifts=st.integers(min_value=1,
                                                                       max_value=3),
       days=st.integers(min_value=1, max_value=4))
def test_standard_cycles_cover_every_shift_once_and_share_work(teams: int, shifts: int,
                                                               days: int) -> None:
    names = [f"t{index}" for index in range(teams)]
    cycle = standard_cycle(names, shifts, days)
    assert len(cycle) == teams * days
    worked: Counter[tuple[str, int]] = Counter()
    for row in cycle:
        assert len(set(row)) == shifts  # one team per shift, nobody on two shifts
        worked.update((team, shift) for shift, team in enumerate(row))
    assert all(worked[(team, shift)] == days for team in names for shift in range(shifts))


@pytest.mark.parametrize(("shifts", "day_start", "message"), [
    ([{"name": "早", "from": "08:00", "to": "16:00"}, {"name": "中", "from": "17:00",
                                                      "to": "24:00"},
      {"name": "夜", "from": "00:00", "to": "08:00"}], None,
     "shift '早' ends at 16:00 but the next one ('中') starts at 17:00"),
    ([{"name": "早", "from": "08:00", "to": "16:00"}, {"name": "中", "from": "16:00",
                                                      "to": "24:00"},
      {"name": "夜", "from": "00:00", "to": "09:00"}], None,
     "shift '夜' ends at 09:00 but the next one ('早') starts at 08:00"),
    ([{"name": "早", "from": "08:00", "to": "20:00"}, {"name": "夜", "from": "20:00",
                                                      "to": "08:00"}], "07:00",
     "day_start 07:00 is not the start of a shift (08:00, 20:00)"),
    ([{"name": "早", "from": "08:00", "to": "20:00"}, {"name": "早", "from": "20:00",
                                                      "to": "08:00"}], None,
     "shift names must differ"),
])
def test_bad_shifts_are_refused_with_the_times(shifts: list[dict[str, str]],
                                               day_start: str | None, message: str) -> None:
    block: dict[str, object] = {"shifts": shifts}
    if day_start:
        block["day_start"] = day_start
    with pytest.raises(vol.Invalid, match=message.replace("(", r"\(").replace(")", r"\)")):
        calendar_schema(block)


def test_bad_rotations() -> None:
    with pytest.raises(vol.Invalid, match="2 team"):
        calendar(rotation={"anchor": "2026-03-01", "teams": ["A", "B"]})
    with pytest.raises(vol.Invalid, match="each cycle row lists the team on each of the 3"):
        calendar(rotation={"anchor": "2026-03-01", "cycle": [["A", "B"]]})


def test_without_shifts_a_production_day_is_the_calendar_day() -> None:
    slots = DEFAULT_CALENDAR.slots(date(2026, 3, 2), date(2026, 3, 3), SHANGHAI)
    assert [(slot.start, slot.end) for slot in slots] == [
        (local(2026, 3, 2), local(2026, 3, 3)), (local(2026, 3, 3), local(2026, 3, 4))]


async def test_yaml_errors_name_the_file_and_line(hub_factory: HubFactory) -> None:
    hub = await hub_factory("""
energy:
  meters:
    - id: mill
      entity: sensor.mill_kwh
  shifts:
    shifts:
      - {name: 早班, from: "08:00", to: "16:00"}
      - {name: 中班, from: "16:30", to: "08:00"}
""")
    assert any("ends at 16:00" in str(issue) for issue in hub.config_issues), \
        hub.config_issues
