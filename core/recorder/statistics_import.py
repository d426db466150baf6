"""Importing meter history into long-term statistics: readings or interval consumption.

Used by `plantpulse import` (CSV), `POST /api/statistics/import` and other code:

    from plantpulse.core.recorder import get_recorder
    from plantpulse.core.recorder.statistics_import import ImportRow, async_import

    result = await async_import(get_recorder(hub), [
        ImportRow("sensor.yang36_kwh", datetime(2024, 1, 1, tzinfo=SHANGHAI), 1200.0),
        ImportRow("sensor.yang36_kwh", datetime(2024, 1, 1, 1, tzinfo=SHANGHAI), 1242.5),
    ], unit="kWh")

Each statistic id (an entity id such as `sensor.line_kwh`, configured or not) is imported as
a meter (`total_increasing`) into the hourly `statistics` table, which is kept for years (not
purged with raw states); days and months are rolled up from it by statistics queries.

Row kinds:
- `reading` (default): a cumulative meter reading at `time`. Consumption between two
  readings is the difference; as in the recorder's statistics, a reading below 90 % of the
  one before is a meter reset or replacement (consumption counts again from 0, so the new
  reading is what was used since), and a smaller dip is noise that adds nothing. Neither ever
  gives negative or giant consumption; both are reported as notes with their line numbers.
- `interval`: the consumption in the interval ending at `time`, which began at the previous
  row's time (the first row's interval is as long as the gap to the second, so a statistic
  needs two interval rows).

Consumption between two times is spread over the hours it covers in proportion to the time,
so a reading at exactly 11:00 closes the 10:00-11:00 hour, and the reading on the first of a
month at 00:00 closes the month before. The hours from the first row to the last are
rewritten (5-minute rows there are dropped); the statistic's sum carries on from the hour
before the range (plus, for readings, the consumption from that hour's reading to the first
imported one), and later hours move by the difference, so `change` stays right around the
range.

Bad rows are reported with their line numbers and nothing is imported unless `partial` is
given (then the bad rows are skipped). A statistic id with rows of both kinds, a duplicate
time or a negative value is a bad row.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import aiosqlite

from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.platforms.sensor import StateClass
from plantpulse.core.recorder.const import HOUR_SECONDS, RESET_RATIO
from plantpulse.core.recorder.database import async_in_transaction
from plantpulse.core.states import valid_entity_id

if TYPE_CHECKING:
    from plantpulse.core.recorder.core import Recorder
    from plantpulse.core.recorder.writer import RowWriter

KIND_READING: Final = "reading"
KIND_INTERVAL: Final = "interval"
KINDS: Final = (KIND_READING, KIND_INTERVAL)
SOURCE_IMPORT: Final = "import"
DEFAULT_UNIT: Final = "kWh"
CSV_COLUMNS: Final = ("entity_id", "timestamp", "value", "kind")
# Problems listed in an error message at most (all are in `problems`).
MAX_LISTED_PROBLEMS: Final = 20

_META_SQL: Final = (
    "SELECT id, source, unit_of_measurement, state_class FROM statistics_meta "
    "WHERE statistic_id = ?"
)
_BEFORE_SQL: Final = (
    "SELECT sum, meter_ref FROM statistics WHERE metadata_id = ? AND start_s < ? "
    "ORDER BY start_s DESC LIMIT 1"
)
_AT_OR_BEFORE_SQL: Final = (
    "SELECT sum FROM statistics WHERE metadata_id = ? AND start_s <= ? "
    "ORDER BY start_s DESC LIMIT 1"
)
_INSERT_HOUR_SQL: Final = (
    "INSERT INTO statistics (metadata_id, start_s, mean, min, max, sum, state, meter_ref) "
    "VALUES (?, ?, NULL, NULL, NULL, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One value to import: a reading at `time`, or the consumption of the interval ending
    at `time` (`kind` "interval"). `line` is where it came from, for messages."""

    statistic_id: str
    time: datetime
    value: float
    kind: str = KIND_READING
    line: int | None = None


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Something about one input row: why it is bad, or what was made of it."""

    line: int | None
    message: str

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


class StatisticsImportError(PlantPulseError):
    """Bad input rows (nothing was imported), or a statistic that cannot take the import."""

    def __init__(self, problems: Sequence[RowProblem], what: str = "bad rows") -> None:
        listed = "; ".join(str(problem) for problem in problems[:MAX_LISTED_PROBLEMS])
        more = len(problems) - MAX_LISTED_PROBLEMS
        super().__init__(
            f"Nothing imported: {len(problems)} {what}: {listed}"
            + (f"; and {more} more" if more > 0 else "")
        )
        self.problems = list(problems)


@dataclass(slots=True)
class StatisticSummary:
    """What an import did to one statistic."""

    statistic_id: str
    kind: str
    rows: int
    first: datetime
    last: datetime
    consumption: float
    unit: str | None
    created: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"statistic_id": self.statistic_id, "kind": self.kind, "rows": self.rows,
                "first": self.first.isoformat(), "last": self.last.isoformat(),
                "consumption": round(self.consumption, 9), "unit": self.unit,
                "created": self.created}


@dataclass(slots=True)
class ImportResult:
    """The statistics imported, the bad rows skipped (partial imports only) and notes on
    rows taken as meter resets or ignored dips."""

    statistics: list[StatisticSummary] = field(default_factory=list)
    skipped: list[RowProblem] = field(default_factory=list)
    notes: list[RowProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the REST answer)."""
        return {
            "statistics": [summary.as_dict() for summary in self.statistics],
            "skipped": [{"line": p.line, "message": p.message} for p in self.skipped],
            "notes": [{"line": p.line, "message": p.message} for p in self.notes],
        }


@dataclass(frozen=True, slots=True)
class _Hour:
    start_s: int
    sum: float
    state: float | None
    meter_ref: float | None


@dataclass(slots=True)
class _Plan:
    """One statistic's new hourly rows, from consumption relative to the range start."""

    statistic_id: str
    kind: str
    rows: list[ImportRow]
    first_hour_s: int
    last_hour_s: int
    amounts: dict[int, float]
    states: dict[int, tuple[float, float]]
    first_reading: float | None
    notes: list[RowProblem]


def parse_csv(text: str) -> tuple[list[ImportRow], list[RowProblem]]:
    """Rows of a CSV with header `entity_id,timestamp,value[,kind]`, and the bad lines.

    Timestamps are ISO 8601 with an offset (`2024-03-01T08:00:00+08:00`, `...Z`); values
    are finite numbers, not negative; kind is `reading` (default when empty or absent) or
    `interval`. Blank lines are skipped. Line numbers count from 1 at the header.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    problems: list[RowProblem] = []
    header = next(reader, None)
    names = [name.strip().lower() for name in header or []]
    if names not in (list(CSV_COLUMNS[:3]), list(CSV_COLUMNS)):
        return [], [RowProblem(1, f"the header must be {','.join(CSV_COLUMNS[:3])}[,kind], "
                                  f"not {','.join(header or []) or 'empty'}")]
    rows: list[ImportRow] = []
    for fields in reader:
        line = reader.line_num
        if not any(value.strip() for value in fields):
            continue
        if len(fields) not in (3, len(names)) or len(fields) > 4:
            problems.append(RowProblem(line, f"expected {len(names)} columns, got "
                                             f"{len(fields)}"))
            continue
        statistic_id, stamp, number = (value.strip() for value in fields[:3])
        kind = fields[3].strip().lower() if len(fields) == 4 and fields[3].strip() else None
        row, problem = make_row(statistic_id, stamp, number, kind or KIND_READING, line)
        if problem is not None:
            problems.append(problem)
        elif row is not None:
            rows.append(row)
    return rows, problems


def make_row(statistic_id: str, stamp: str, number: str | float, kind: str,
             line: int | None) -> tuple[ImportRow | None, RowProblem | None]:
    """An ImportRow from text fields, or the problem with them."""
    if not valid_entity_id(statistic_id):
        return None, RowProblem(line, f"{statistic_id!r} is not an entity id "
                                      "(domain.object_id, e.g. sensor.line_1_kwh)")
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None, RowProblem(line, f"timestamp {stamp!r} is not ISO 8601 "
                                      "(e.g. 2024-03-01T08:00:00+08:00)")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, RowProblem(line, f"timestamp {stamp!r} has no UTC offset (add e.g. "
                                      "+08:00 or Z)")
    try:
        value = float(number)
    except ValueError:
        return None, RowProblem(line, f"value {number!r} is not a number")
    if not math.isfinite(value) or value < 0:
        return None, RowProblem(line, f"value {number!r} must be a finite number >= 0")
    if kind not in KINDS:
        return None, RowProblem(line, f"kind {kind!r} must be {' or '.join(KINDS)}")
    return ImportRow(statistic_id, moment, value, kind, line), None


def group_rows(rows: Iterable[ImportRow]) -> tuple[dict[str, list[ImportRow]], list[RowProblem]]:
    """Rows per statistic in time order, without the bad ones, and why those are bad:
    a second kind for one statistic, a repeated time, a lone interval row."""
    grouped: dict[str, list[ImportRow]] = {}
    for row in rows:
        grouped.setdefault(row.statistic_id, []).append(row)
    problems: list[RowProblem] = []
    result: dict[str, list[ImportRow]] = {}
    for statistic_id, found in grouped.items():
        kind = found[0].kind
        kept: dict[datetime, ImportRow] = {}
        for row in found:
            if row.kind != kind:
                problems.append(RowProblem(row.line, f"{statistic_id} has {kind} rows "
                                           f"(line {found[0].line}), not {row.kind} ones too"))
            elif (earlier := kept.get(row.time)) is not None:
                problems.append(RowProblem(row.line, f"{statistic_id} already has a value at "
                                           f"{row.time.isoformat()} (line {earlier.line})"))
            else:
                kept[row.time] = row
        ordered = sorted(kept.values(), key=lambda row: row.time)
        if kind == KIND_INTERVAL and len(ordered) == 1:
            problems.append(RowProblem(ordered[0].line, f"{statistic_id} has one interval row: "
                                       "its interval length comes from the gap to a second"))
            continue
        if ordered:
            result[statistic_id] = ordered
    return result, problems


def _hour_ending(timestamp: float) -> int:
    """The start of the hour that ends at or after `timestamp` (11:00 -> 10:00)."""
    return (math.ceil(timestamp / HOUR_SECONDS) - 1) * HOUR_SECONDS


def _spread(amounts: dict[int, float], begin: float, end: float, amount: float) -> None:
    """Add `amount`, used evenly from `begin` to `end`, to the hours it covers."""
    hour = int(begin // HOUR_SECONDS) * HOUR_SECONDS
    span = end - begin
    while hour < end:
        overlap = min(end, hour + HOUR_SECONDS) - max(begin, hour)
        if overlap > 0:
            amounts[hour] = amounts.get(hour, 0.0) + amount * overlap / span
        hour += HOUR_SECONDS


def plan_statistic(statistic_id: str, rows: Sequence[ImportRow]) -> _Plan:
    """Consumption per hour (and readings per hour) of one statistic's rows in time order."""
    amounts: dict[int, float] = {}
    states: dict[int, tuple[float, float]] = {}
    notes: list[RowProblem] = []
    times = [row.time.timestamp() for row in rows]
    kind = rows[0].kind
    if kind == KIND_INTERVAL:
        begin = times[0] - (times[1] - times[0])
        for row, end in zip(rows, times, strict=True):
            _spread(amounts, begin, end, row.value)
            begin = end
        first_hour = int((times[0] - (times[1] - times[0])) // HOUR_SECONDS) * HOUR_SECONDS
        return _Plan(statistic_id, kind, list(rows), first_hour, _hour_ending(times[-1]),
                     amounts, states, None, notes)
    ref = rows[0].value
    states[_hour_ending(times[0])] = (ref, ref)
    for row, begin, end in zip(rows[1:], times, times[1:], strict=False):
        value = row.value
        if value >= ref:
            used = value - ref
            ref = value
        elif value < RESET_RATIO * ref:
            notes.append(RowProblem(row.line, f"{statistic_id}: reading {value:g} below "
                                    f"{ref:g} taken as a meter reset or replacement (counts "
                                    "from 0)"))
            used = value
            ref = value
        else:
            used = 0.0
            notes.append(RowProblem(row.line, f"{statistic_id}: reading {value:g} slightly "
                                    f"below {ref:g} ignored as noise (adds nothing)"))
        if used:
            _spread(amounts, begin, end, used)
        states[_hour_ending(end)] = (value, ref)
    return _Plan(statistic_id, kind, list(rows), _hour_ending(times[0]),
                 _hour_ending(times[-1]), amounts, states, rows[0].value, notes)


def _bridge(ref: float | None, first: float | None) -> float:
    """Consumption from the reading before the range to the first imported one."""
    if ref is None or first is None:
        return 0.0
    if first >= ref:
        return first - ref
    return first if first < RESET_RATIO * ref else 0.0


def hour_rows(plan: _Plan, base: float, bridge: float) -> list[_Hour]:
    """Every hour of the plan's range with its cumulative sum from `base`."""
    total = base + bridge
    state = ref = None
    hours = []
    for hour in range(plan.first_hour_s, plan.last_hour_s + HOUR_SECONDS, HOUR_SECONDS):
        total += plan.amounts.get(hour, 0.0)
        if hour in plan.states:
            state, ref = plan.states[hour]
        hours.append(_Hour(hour, total, state, ref))
    return hours


async def async_import(
    recorder: Recorder, rows: Iterable[ImportRow], *, unit: str | None = None,
    partial: bool = False,
) -> ImportResult:
    """Import `rows` into the recorder's long-term statistics; see the module docstring.

    `unit` is the unit of statistics this import creates (default kWh); a statistic that
    exists keeps its unit, and a different `unit` is an error. Raises
    StatisticsImportError listing every bad row (with its line) unless `partial`, which
    skips them (listed in `result.skipped`); also when a statistic is not a meter. Runs on the
    recorder's writer, between its batches; statistics queries see the result on return.
    """
    rows = list(rows)
    grouped, problems = group_rows(rows)
    if problems and not partial:
        raise StatisticsImportError(problems)
    plans = [plan_statistic(statistic_id, found) for statistic_id, found in grouped.items()]

    async def work(conn: aiosqlite.Connection, writer: RowWriter) -> list[StatisticSummary]:
        return await _async_write(conn, writer, plans, unit)

    summaries = await recorder.async_run_on_writer("import statistics", work)
    return ImportResult(summaries, problems,
                        [note for plan in plans for note in plan.notes])


async def _async_write(conn: aiosqlite.Connection, writer: RowWriter, plans: Sequence[_Plan],
                       unit: str | None) -> list[StatisticSummary]:
    """Check the statistics can take the import, then write it in one transaction."""
    metas: dict[str, tuple[int | None, str | None]] = {}
    refusals: list[RowProblem] = []
    for plan in plans:
        found = await conn.execute_fetchall(_META_SQL, (plan.statistic_id,))
        if not found:
            metas[plan.statistic_id] = (None, unit or DEFAULT_UNIT)
            continue
        statistic_id, _source, known_unit, state_class = found[0]
        line = plan.rows[0].line
        if state_class not in (StateClass.TOTAL_INCREASING, StateClass.TOTAL):
            refusals.append(RowProblem(line, f"{plan.statistic_id} is a {state_class} "
                                       "statistic, not a meter: it cannot take readings"))
        elif unit is not None and known_unit is not None and unit != known_unit:
            refusals.append(RowProblem(line, f"{plan.statistic_id} is recorded in {known_unit}, "
                                       f"not {unit}"))
        metas[plan.statistic_id] = (statistic_id, known_unit)
    if refusals:
        raise StatisticsImportError(refusals, "statistics that cannot take the import")
    summaries: list[StatisticSummary] = []
    created: dict[str, int] = {}

    async def write() -> None:
        summaries.clear()
        created.clear()
        for plan in plans:
            known_id, plan_unit = metas[plan.statistic_id]
            if known_id is None:
                known_id = created[plan.statistic_id] = writer.reserve_statistic_id()
                await conn.execute(
                    "INSERT INTO statistics_meta (id, statistic_id, source, "
                    "unit_of_measurement, state_class, name) VALUES (?, ?, ?, ?, ?, NULL)",
                    (known_id, plan.statistic_id, SOURCE_IMPORT, plan_unit,
                     StateClass.TOTAL_INCREASING.value),
                )
            consumption = await _async_write_plan(conn, known_id, plan)
            summaries.append(StatisticSummary(
                plan.statistic_id, plan.kind, len(plan.rows), plan.rows[0].time,
                plan.rows[-1].time, consumption, plan_unit, plan.statistic_id in created,
            ))

    await async_in_transaction(conn, write)
    for statistic_id, metadata_id in created.items():
        writer.note_imported_statistic(statistic_id, metadata_id)
    return summaries


async def _async_write_plan(conn: aiosqlite.Connection, statistic_id: int, plan: _Plan) -> float:
    """Replace the plan's hours, carry the sum in and shift later hours; returns the
    consumption imported (with the bridge from the reading before the range)."""
    before = await conn.execute_fetchall(_BEFORE_SQL, (statistic_id, plan.first_hour_s))
    base, ref = (before[0][0] or 0.0, before[0][1]) if before else (0.0, None)
    end_before = await conn.execute_fetchall(_AT_OR_BEFORE_SQL, (statistic_id, plan.last_hour_s))
    old_end = (end_before[0][0] or 0.0) if end_before else 0.0
    bridge = _bridge(ref, plan.first_reading)
    hours = hour_rows(plan, base, bridge)
    end_s = plan.last_hour_s + HOUR_SECONDS
    await conn.execute("DELETE FROM statistics WHERE metadata_id = ? AND start_s >= ? "
                       "AND start_s < ?", (statistic_id, plan.first_hour_s, end_s))
    await conn.execute("DELETE FROM statistics_short_term WHERE metadata_id = ? AND "
                       "start_s >= ? AND start_s < ?", (statistic_id, plan.first_hour_s, end_s))
    await conn.executemany(_INSERT_HOUR_SQL, [
        (statistic_id, hour.start_s, hour.sum, hour.state, hour.meter_ref) for hour in hours
    ])
    shift = hours[-1].sum - old_end
    if shift:
        for table in ("statistics", "statistics_short_term"):
            await conn.execute(f"UPDATE {table} SET sum = sum + ? WHERE metadata_id = ? "
                               "AND start_s >= ?", (shift, statistic_id, end_s))
    return hours[-1].sum - base
