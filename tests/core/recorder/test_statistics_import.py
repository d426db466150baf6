"""Importing meter history into long-term statistics: readings, intervals, resets, bad rows,
and the hours, days and months queried back (Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plantpulse.core.recorder.statistics_import import (
    ImportRow,
    StatisticsImportError,
    async_import,
    parse_csv,
)
from tests.core.recorder.conftest import RecorderHub, query

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def changes(rows: list[dict]) -> list[float]:
    return [round(row["change"], 6) for row in rows]


async def test_readings_give_hours_days_and_months_in_site_time(
        recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub()
    start = local(2024, 1, 30)
    rows = [ImportRow("sensor.line_kwh", start + timedelta(hours=hour), 1000.0 + 10 * hour)
            for hour in range(24 * 4 + 1)]  # Jan 30 00:00 .. Feb 3 00:00, 10 kWh an hour
    result = await async_import(rec, rows)
    [summary] = result.statistics
    assert (summary.statistic_id, summary.rows, summary.consumption, summary.created) == (
        "sensor.line_kwh", 97, 960.0, True)
    hours = (await rec.async_get_statistics(["sensor.line_kwh"], "hour", local(2024, 1, 29, 20),
                                            local(2024, 1, 30, 3)))["sensor.line_kwh"]
    # the first reading (00:00) closes the hour before it; each later one closes its hour
    assert [row["start"] for row in hours] == ["2024-01-29T23:00:00+08:00",
                                              "2024-01-30T00:00:00+08:00",
                                              "2024-01-30T01:00:00+08:00",
                                              "2024-01-30T02:00:00+08:00"]
    assert [row["state"] for row in hours] == [1000.0, 1010.0, 1020.0, 1030.0]
    days = (await rec.async_get_statistics(["sensor.line_kwh"], "day", start,
                                           local(2024, 2, 3)))["sensor.line_kwh"]
    assert [row["start"] for row in days] == [f"2024-{day}T00:00:00+08:00" for day in
                                              ("01-30", "01-31", "02-01", "02-02")]
    assert changes(days) == [240.0, 240.0, 240.0, 240.0]
    months = (await rec.async_get_statistics(["sensor.line_kwh"], "month", start,
                                             local(2024, 2, 3)))["sensor.line_kwh"]
    assert changes(months) == [480.0, 480.0]
    meta = query(rec.db_path, "SELECT source, unit_of_measurement, state_class FROM "
                              "statistics_meta WHERE statistic_id = 'sensor.line_kwh'")
    assert meta == [("import", "kWh", "total_increasing")]
    assert hub.states.get("sensor.line_kwh") is None


async def test_intervals_are_spread_over_the_hours_they_cover(recorder_hub: RecorderHub) -> None:
    _hub, rec = await recorder_hub()
    # daily consumption ending at local midnight; the first row's day is the gap to the second
    rows = [ImportRow("sensor.water_m3", local(2024, 3, day), float(24 * day), "interval")
            for day in (2, 3, 4)]
    await async_import(rec, rows, unit="m³")
    hours = (await rec.async_get_statistics(["sensor.water_m3"], "hour", local(2024, 3, 1),
                                            local(2024, 3, 4)))["sensor.water_m3"]
    assert len(hours) == 72
    assert changes(hours) == [2.0] * 24 + [3.0] * 24 + [4.0] * 24
    days = (await rec.async_get_statistics(["sensor.water_m3"], "day", local(2024, 3, 1),
                                           local(2024, 3, 4)))["sensor.water_m3"]
    assert changes(days) == [48.0, 72.0, 96.0]
    assert query(rec.db_path, "SELECT unit_of_measurement FROM statistics_meta") == [("m³",)]


async def test_reset_and_replacement_never_give_negative_or_giant_consumption(
        recorder_hub: RecorderHub) -> None:
    _hub, rec = await recorder_hub()
    values = [99990.0, 99995.0, 3.0, 8.0, 7.9, 9.0]  # rollover to 3, then a dip of noise
    rows = [ImportRow("sensor.m", local(2024, 5, 1, hour), value, line=hour + 2)
            for hour, value in enumerate(values)]
    result = await async_import(rec, rows)
    assert result.statistics[0].consumption == pytest.approx(5 + 3 + 5 + 1)
    assert [note.line for note in result.notes] == [4, 6]
    assert "meter reset" in str(result.notes[0]) and "noise" in str(result.notes[1])
    hours = (await rec.async_get_statistics(["sensor.m"], "hour", local(2024, 4, 30, 23),
                                            local(2024, 5, 1, 6)))["sensor.m"]
    assert changes(hours) == [0.0, 5.0, 3.0, 5.0, 0.0, 1.0]
    assert min(changes(hours)) >= 0


async def test_bad_rows_import_nothing_unless_partial(recorder_hub: RecorderHub) -> None:
    _hub, rec = await recorder_hub()
    text = (
        "entity_id,timestamp,value,kind\n"
        "sensor.a,2024-01-01T00:00:00+08:00,10,reading\n"
        "sensor.a,2024-01-01T01:00:00,11,\n"            # 3: no offset
        "sensor.a,2024-01-01T02:00:00+08:00,-4\n"       # 4: negative
        "sensor.a,2024-01-01T03:00:00+08:00,15\n"
        "sensor.a,2024-01-01T03:00:00+08:00,16\n"       # 6: duplicate time
        "sensor.a,2024-01-01T04:00:00+08:00,17,interval\n"  # 7: second kind
        "not an id,2024-01-01T04:00:00+08:00,1\n"        # 8
        "sensor.a,2024-01-01T05:00:00+08:00,abc\n"       # 9
        "sensor.b,2024-01-01T05:00:00+08:00,1,hourly\n"  # 10
        "\n"
        "sensor.a,2024-01-01T06:00:00+08:00,20\n"
    )
    rows, problems = parse_csv(text)
    assert [problem.line for problem in problems] == [3, 4, 8, 9, 10]
    with pytest.raises(StatisticsImportError) as caught:
        await async_import(rec, rows)
    assert [problem.line for problem in caught.value.problems] == [6, 7]
    assert "line 6" in str(caught.value) and "Nothing imported" in str(caught.value)
    assert query(rec.db_path, "SELECT COUNT(*) FROM statistics") == [(0,)]
    result = await async_import(rec, rows, partial=True)
    assert [problem.line for problem in result.skipped] == [6, 7]
    assert result.statistics[0].consumption == 10.0  # 10 -> 15 -> 20


async def test_import_before_live_history_moves_later_sums(recorder_hub: RecorderHub) -> None:
    _hub, rec = await recorder_hub()
    await async_import(rec, [ImportRow("sensor.m", local(2024, 1, 1, hour), 50.0 + hour)
                             for hour in range(4, 7)])
    await async_import(rec, [ImportRow("sensor.m", local(2024, 1, 1, hour), 10.0 * hour)
                             for hour in range(0, 3)])
    hours = (await rec.async_get_statistics(["sensor.m"], "hour", local(2023, 12, 31, 23),
                                            local(2024, 1, 1, 6)))["sensor.m"]
    # 0 -> 10 -> 20, then the later rows continue from 20 (their own 1 kWh steps), and the
    # gap between the two imports (20 -> 54) is not known, so it is not counted
    assert [row["sum"] for row in hours] == [0.0, 10.0, 20.0, 20.0, 21.0, 22.0]
    assert min(changes(hours)) >= 0


async def test_appended_month_continues_from_the_reading_before(
        recorder_hub: RecorderHub) -> None:
    _hub, rec = await recorder_hub()
    await async_import(rec, [ImportRow("sensor.m", local(2024, 1, day), 100.0 * day)
                             for day in range(1, 32)] + [
        ImportRow("sensor.m", local(2024, 2, 1), 3200.0)])
    await async_import(rec, [ImportRow("sensor.m", local(2024, 2, day, 8), 3300.0 + 50 * day)
                             for day in range(1, 30)])
    months = (await rec.async_get_statistics(["sensor.m"], "month", local(2024, 1, 1),
                                             local(2024, 3, 1)))["sensor.m"]
    # January: 100 -> 3200 (the Feb 1 00:00 reading closes January); February from 3200 on
    assert changes(months) == [3100.0, 3300.0 + 50 * 29 - 3200]


async def test_existing_measurement_statistic_refuses(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub("commit_interval: 0")
    hub.states.async_set("sensor.power", "5", {"state_class": "measurement",
                                               "unit_of_measurement": "kW"})
    await rec.async_flush()
    with pytest.raises(StatisticsImportError, match="not a meter"):
        await async_import(rec, [ImportRow("sensor.power", local(2024, 1, 1), 1.0)])
    await async_import(rec, [ImportRow("sensor.kwh", local(2024, 1, 1), 1.0),
                             ImportRow("sensor.kwh", local(2024, 1, 1, 1), 2.0)], unit="kWh")
    with pytest.raises(StatisticsImportError, match="recorded in kWh, not MWh"):
        await async_import(rec, [ImportRow("sensor.kwh", local(2024, 1, 2), 3.0)], unit="MWh")


async def test_imported_statistic_becomes_the_live_entity_s(recorder_hub: RecorderHub) -> None:
    hub, rec = await recorder_hub("commit_interval: 0")
    await async_import(rec, [ImportRow("sensor.kwh", local(2024, 1, 1), 1.0),
                             ImportRow("sensor.kwh", local(2024, 1, 1, 1), 2.0)])
    hub.states.async_set("sensor.kwh", "7", {"state_class": "total_increasing",
                                             "unit_of_measurement": "kWh"})
    await rec.async_flush()
    meta = query(rec.db_path, "SELECT id, source FROM statistics_meta")
    assert meta == [(1, "recorder")]


@given(st.lists(st.tuples(st.sampled_from(["sensor.a", "x", ""]),
                          st.sampled_from(["2024-01-01T00:00:00+08:00", "2024-01-01", "nope"]),
                          st.sampled_from(["1", "-1", "nan", "x", "1e3"]),
                          st.sampled_from(["", "reading", "interval", "other"])),
                max_size=10))
def test_parse_csv_accounts_for_every_line(lines: list[tuple[str, ...]]) -> None:
    text = "entity_id,timestamp,value,kind\n" + "".join(",".join(line) + "\n"
                                                        for line in lines)
    rows, problems = parse_csv(text)
    assert len(rows) + len(problems) == len(lines)
    assert all(row.value >= 0 and row.time.tzinfo is not None for row in rows)
    assert sorted([row.line for row in rows] + [p.line for p in problems]) == list(
        range(2, len(lines) + 2))


def test_parse_csv_header_and_utc() -> None:
    rows, problems = parse_csv("entity_id,timestamp,value\nsensor.a,2024-01-01T00:00:00Z,5\n")
    assert problems == [] and rows[0].time == datetime(2024, 1, 1, tzinfo=UTC)
    assert rows[0].kind == "reading" and rows[0].line == 2
    _rows, problems = parse_csv("id,time,value\n")
    assert str(problems[0]).startswith("line 1: the header must be entity_id,timestamp,value")
