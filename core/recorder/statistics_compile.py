"""Compiling statistics from recorded states: 5-minute periods, hours, late-data recompiles.

Runs on the writer connection, as steps of the writer task, so compiling never races the
states being written. Each 5-minute period is compiled once it has closed; its hour once the
hour's last period is done; periods missed while the hub was down are compiled at start, as
far back as raw states reach. A state that arrives for a period already compiled (late data
from a gateway's buffer) marks the period in `statistics_recompile` in the same transaction;
the recompile then redoes the marked periods, follows meters whose reading reference moved
into the next period, shifts the later cumulative sums by the difference, and rebuilds the
hours concerned.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Final

import aiosqlite

from plantpulse.core.const import ATTR_STATE_CLASS
from plantpulse.core.platforms.sensor import StateClass
from plantpulse.core.recorder.const import (
    DAY_SECONDS,
    HOUR_SECONDS,
    MICROSECONDS,
    SHORT_TERM_SECONDS,
    SOURCE_RECORDER,
)
from plantpulse.core.recorder.database import async_fetch_chunked, async_in_transaction
from plantpulse.core.recorder.history import CARRY_IN_SQL, parse_blobs
from plantpulse.core.recorder.statistics_math import (
    METER_CLASSES,
    Meter,
    PeriodValues,
    Reading,
    accumulate,
    parse_number,
    roll_up,
    time_weighted,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

ATTRIBUTE_INFO_CACHE_SIZE: Final = 16_384
_STATE_CLASSES: Final = frozenset(StateClass)

_ENTITIES_SQL: Final = (
    "SELECT sm.id, sm.state_class, m.metadata_id FROM statistics_meta sm "
    "JOIN states_meta m ON m.entity_id = sm.statistic_id WHERE sm.source = ?"
)
_STATES_SQL: Final = (
    "SELECT metadata_id, ts_us, state, attributes_id FROM states "
    "WHERE metadata_id IN ({}) AND ts_us >= ? AND ts_us < ? ORDER BY metadata_id, ts_us"
)
_PREVIOUS_SQL: Final = (
    "SELECT sm.id, t.sum, t.state, t.meter_ref FROM statistics_meta sm "
    "JOIN {table} t ON t.metadata_id = sm.id AND t.start_s = "
    "(SELECT MAX(start_s) FROM {table} WHERE metadata_id = sm.id AND start_s <= ?) "
    "WHERE sm.id IN ({{}})"
)
_AT_SQL: Final = (
    "SELECT metadata_id, sum, meter_ref FROM statistics_short_term "
    "WHERE start_s = ? AND metadata_id IN ({})"
)
_SHORT_TERM_RANGE_SQL: Final = (
    "SELECT metadata_id, start_s, mean, min, max, sum, state, meter_ref "
    "FROM statistics_short_term WHERE metadata_id IN ({}) AND start_s >= ? AND start_s < ? "
    "ORDER BY metadata_id, start_s"
)
_UPSERT_SQL: Final = (
    "INSERT INTO {table} (metadata_id, start_s, mean, min, max, sum, state, meter_ref) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (metadata_id, start_s) DO UPDATE SET "
    "mean = excluded.mean, min = excluded.min, max = excluded.max, sum = excluded.sum, "
    "state = excluded.state, meter_ref = excluded.meter_ref"
)
_SHIFT_SQL: Final = "UPDATE {table} SET sum = sum + ? WHERE metadata_id = ? AND start_s > ?"


@dataclass(frozen=True, slots=True)
class StatisticEntity:
    """A statistic compiled from an entity's states."""

    statistic_id: int
    state_class: StateClass
    metadata_id: int


@dataclass(frozen=True, slots=True)
class _Outcome:
    """A statistic's compiled row in one period, what it replaced, and why it is there."""

    values: PeriodValues
    old: PeriodValues | None
    had_readings: bool
    meter: bool


@dataclass(frozen=True, slots=True)
class AttributeInfo:
    """What compiling needs of an attributes blob: a state class, and `last_reset`."""

    has_state_class: bool
    last_reset: str | None


def floor_period(timestamp: float, seconds: int = SHORT_TERM_SECONDS) -> int:
    """The start (seconds) of the UTC-aligned period of `seconds` holding `timestamp`."""
    whole = int(timestamp // 1)
    return whole - whole % seconds


class StatisticsCompiler:
    """Compiles and recompiles statistics rows on the writer connection."""

    def __init__(self, hub: Hub, conn: aiosqlite.Connection, late_window_days: int) -> None:
        self._hub = hub
        self._conn = conn
        self._late_window_days = late_window_days
        self._attribute_info: dict[int, AttributeInfo] = {}
        self.compiled_until_s = 0

    @property
    def late_before_us(self) -> int:
        """States before this time (microseconds) belong to periods already compiled."""
        return self.compiled_until_s * MICROSECONDS

    def late_after_us(self) -> int:
        """Late data older than this is not recompiled (its raw neighbours may be purged)."""
        return round((self._hub.clock.time() - self._late_window_days * DAY_SECONDS) * MICROSECONDS)

    async def async_load(self) -> bool:
        """Find where compiling carries on; True when periods are waiting to be recompiled.

        That is after the last period compiled, or from the oldest state when none was, but
        never further back than raw states are kept (the late-data window). A new, empty
        database starts at the current period, and records that as its first run.
        """
        runs = await self._conn.execute_fetchall("SELECT MAX(start_s) FROM statistics_runs")
        oldest = await self._conn.execute_fetchall(
            "SELECT MIN(first_us) FROM (SELECT (SELECT MIN(ts_us) FROM states "
            "WHERE metadata_id = m.metadata_id) AS first_us FROM states_meta m) firsts"
        )
        last_run, first_us = runs[0][0], oldest[0][0]
        if first_us is None:
            carry_on = (floor_period(self._hub.clock.time()) if last_run is None
                        else last_run + SHORT_TERM_SECONDS)
        else:
            first_period = floor_period(first_us / MICROSECONDS)
            carry_on = (first_period if last_run is None
                        else max(last_run + SHORT_TERM_SECONDS, first_period))
        self.compiled_until_s = max(carry_on, floor_period(self.late_after_us() / MICROSECONDS))
        if last_run is None and first_us is None:
            await async_in_transaction(self._conn, lambda: self._conn.execute(
                "INSERT INTO statistics_runs (start_s) VALUES (?)",
                (self.compiled_until_s - SHORT_TERM_SECONDS,),
            ))
        marks = await self._conn.execute_fetchall("SELECT COUNT(*) FROM statistics_recompile")
        return bool(marks[0][0])

    async def async_compile_closed(self) -> AsyncIterator[None]:
        """Steps compiling every closed period not compiled yet (and hours as they close)."""
        while self.compiled_until_s + SHORT_TERM_SECONDS <= floor_period(self._hub.clock.time()):
            start_s = self.compiled_until_s
            await self._async_compile_period(start_s, record_run=True)
            self.compiled_until_s = start_s + SHORT_TERM_SECONDS
            if self.compiled_until_s % HOUR_SECONDS == 0:
                await self._async_compile_hour(self.compiled_until_s - HOUR_SECONDS)
            yield

    async def async_recompile(self) -> AsyncIterator[None]:
        """Steps recompiling the periods marked as having received late data.

        A statistic is followed into the next period while the change can reach it: after a
        period without readings of its own (its carried value changed), after a marked
        period (its last value may be new), and for a meter whose reading reference moved.
        Where a meter's reference ends up where it was, the later sums move by the
        difference instead of being recompiled.
        """
        marks = [row[0] for row in await self._conn.execute_fetchall(
            "SELECT start_s FROM statistics_recompile ORDER BY start_s"
        )]
        oldest = self.late_after_us() // MICROSECONDS
        stale = [start_s for start_s in marks
                 if start_s < oldest or start_s + SHORT_TERM_SECONDS > self.compiled_until_s]
        if stale:
            await async_in_transaction(self._conn, lambda: self._async_unmark(stale))
        todo: dict[int, set[int] | None] = dict.fromkeys(set(marks).difference(stale))
        hours: set[int] = set()
        while todo:
            start_s = min(todo)
            only = todo.pop(start_s)
            outcomes = await self._async_compile_period(start_s, only=only, compare=True)
            hours.add(start_s - start_s % HOUR_SECONDS)
            follow: set[int] = set()
            shifts: list[tuple[float, int, int]] = []
            for statistic_id, outcome in outcomes.items():
                new, old = outcome.values, outcome.old
                if not outcome.had_readings:
                    follow.add(statistic_id)
                elif not outcome.meter:
                    if only is None:
                        follow.add(statistic_id)
                elif old is None or new.meter_ref != old.meter_ref:
                    follow.add(statistic_id)
                elif new.sum is not None and old.sum is not None and new.sum != old.sum:
                    shifts.append((new.sum - old.sum, statistic_id, start_s))
            following = start_s + SHORT_TERM_SECONDS
            if follow and following + SHORT_TERM_SECONDS <= self.compiled_until_s:
                wanted = todo.get(following, set())
                todo[following] = None if wanted is None else wanted | follow
            if shifts:
                await async_in_transaction(self._conn, partial(self._async_shift, shifts))
            yield
        for hour_s in sorted(hours):
            if hour_s + HOUR_SECONDS <= self.compiled_until_s:
                await self._async_compile_hour(hour_s)
                yield

    async def _async_unmark(self, starts: Sequence[int]) -> None:
        await self._conn.executemany("DELETE FROM statistics_recompile WHERE start_s = ?",
                                     [(start_s,) for start_s in starts])

    async def _async_shift(self, shifts: Sequence[tuple[float, int, int]]) -> None:
        await self._conn.executemany(_SHIFT_SQL.format(table="statistics_short_term"), shifts)
        await self._conn.executemany(_SHIFT_SQL.format(table="statistics"), [
            (delta, statistic_id, start_s - start_s % HOUR_SECONDS)
            for delta, statistic_id, start_s in shifts
        ])

    async def async_entities(self) -> list[StatisticEntity]:
        """The statistics compiled from states, with their entities' states_meta ids."""
        rows = await self._conn.execute_fetchall(_ENTITIES_SQL, (SOURCE_RECORDER,))
        return [StatisticEntity(statistic_id, StateClass(state_class), metadata_id)
                for statistic_id, state_class, metadata_id in rows
                if state_class in _STATE_CLASSES]

    async def _async_compile_period(
        self, start_s: int, *, only: set[int] | None = None, record_run: bool = False,
        compare: bool = False,
    ) -> dict[int, _Outcome]:
        """Compile one 5-minute period; with `compare`, outcomes hold the old meter rows."""
        entities = [entity for entity in await self.async_entities()
                    if only is None or entity.statistic_id in only]
        conn = self._conn
        start_us = start_s * MICROSECONDS
        end_us = (start_s + SHORT_TERM_SECONDS) * MICROSECONDS
        states_ids = sorted(entity.metadata_id for entity in entities)
        states = await async_fetch_chunked(conn, _STATES_SQL, states_ids,
                                           after=(start_us, end_us))
        carry = await async_fetch_chunked(conn, CARRY_IN_SQL, states_ids, before=(start_us,))
        meters = sorted(entity.statistic_id for entity in entities
                        if entity.state_class in METER_CLASSES)
        previous = await self._async_previous_meters(meters, start_s)
        old: dict[int, PeriodValues] = {}
        if compare:
            old = {statistic_id: PeriodValues(sum=total, meter_ref=ref)
                   for statistic_id, total, ref in await async_fetch_chunked(
                       conn, _AT_SQL, meters, before=(start_s,))}
        info = await self._async_attribute_info(
            {row[3] for row in (*states, *carry) if row[3] is not None}
        )
        computed = await self._hub.async_add_executor_job(
            compile_rows, entities, states, carry, previous, info, start_us, end_us
        )
        rows = [(statistic_id, start_s, values.mean, values.min, values.max, values.sum,
                 values.state, values.meter_ref)
                for statistic_id, (values, _had_readings) in computed.items()]

        async def write() -> None:
            if rows:
                await conn.executemany(_UPSERT_SQL.format(table="statistics_short_term"), rows)
            if record_run:
                await conn.execute("INSERT INTO statistics_runs (start_s) VALUES (?) "
                                   "ON CONFLICT (start_s) DO NOTHING", (start_s,))
            if compare:
                await conn.execute("DELETE FROM statistics_recompile WHERE start_s = ?",
                                   (start_s,))

        await async_in_transaction(conn, write)
        meter_ids = set(meters)
        return {
            statistic_id: _Outcome(values, old.get(statistic_id), had_readings,
                                   statistic_id in meter_ids)
            for statistic_id, (values, had_readings) in computed.items()
        }

    async def _async_previous_meters(self, meters: list[int], start_s: int) -> dict[int, Meter]:
        """Each meter's standing at the end of its last row before `start_s`."""
        found = {
            statistic_id: Meter(total, state, ref)
            for statistic_id, total, state, ref in await async_fetch_chunked(
                self._conn, _PREVIOUS_SQL.format(table="statistics_short_term"), meters,
                before=(start_s - SHORT_TERM_SECONDS,),
            )
            if total is not None
        }
        missing = [statistic_id for statistic_id in meters if statistic_id not in found]
        if missing:
            found.update(
                (statistic_id, Meter(total, state, ref))
                for statistic_id, total, state, ref in await async_fetch_chunked(
                    self._conn, _PREVIOUS_SQL.format(table="statistics"), missing,
                    before=(start_s - HOUR_SECONDS,),
                )
                if total is not None
            )
        return found

    async def _async_compile_hour(self, hour_s: int) -> None:
        """Roll the hour's 5-minute rows up into its hourly row."""
        ids = sorted(entity.statistic_id for entity in await self.async_entities())
        rows = await async_fetch_chunked(self._conn, _SHORT_TERM_RANGE_SQL, ids,
                                         after=(hour_s, hour_s + HOUR_SECONDS))
        by_statistic: dict[int, list[PeriodValues]] = {}
        for statistic_id, _start, *values in rows:
            by_statistic.setdefault(statistic_id, []).append(PeriodValues(*values))
        hourly = []
        for statistic_id, periods in by_statistic.items():
            values = roll_up(periods)
            if values is not None:
                hourly.append((statistic_id, hour_s, values.mean, values.min, values.max,
                               values.sum, values.state, values.meter_ref))

        async def write() -> None:
            if hourly:
                await self._conn.executemany(_UPSERT_SQL.format(table="statistics"), hourly)

        await async_in_transaction(self._conn, write)

    async def _async_attribute_info(self, wanted: set[int]) -> dict[int, AttributeInfo]:
        """What statistics need of the attribute blobs `wanted`; parsed in the executor."""
        cache = self._attribute_info
        missing = sorted(aid for aid in wanted if aid not in cache)
        if missing:
            blobs = await async_fetch_chunked(
                self._conn, "SELECT attributes_id, shared_attrs FROM state_attributes "
                "WHERE attributes_id IN ({})", missing,
            )
            for aid, info in (await self._hub.async_add_executor_job(
                attribute_info, blobs
            )).items():
                if len(cache) >= ATTRIBUTE_INFO_CACHE_SIZE:
                    del cache[next(iter(cache))]
                cache[aid] = info
        return {aid: cache[aid] for aid in wanted if aid in cache}


def attribute_info(blobs: list[tuple[int, str]]) -> dict[int, AttributeInfo]:
    """Parse attribute blobs for what statistics use of them (blocking: an executor job)."""
    info = {}
    for aid, attributes in parse_blobs(blobs).items():
        last_reset = attributes.get("last_reset")
        state_class = attributes.get(ATTR_STATE_CLASS)
        info[aid] = AttributeInfo(
            isinstance(state_class, str) and state_class in _STATE_CLASSES,
            None if last_reset is None else str(last_reset),
        )
    return info


def compile_rows(
    entities: Sequence[StatisticEntity],
    states: Sequence[tuple[int, int, str | None, int | None]],
    carry: Sequence[tuple[int, int, str | None, int | None, int | None]],
    previous: dict[int, Meter],
    info: dict[int, AttributeInfo],
    start_us: int,
    end_us: int,
) -> dict[int, tuple[PeriodValues, bool]]:
    """Compute one period's row per statistic from its states (runs in an executor).

    Returns, per statistic with a row, its values and whether it had readings in the period
    (rather than only a value carried in from before).
    """

    def reading(ts_us: int, state: str | None, attributes_id: int | None) -> Reading:
        details = info.get(attributes_id) if attributes_id is not None else None
        if details is None or not details.has_state_class:
            return Reading(ts_us, None)
        return Reading(ts_us, parse_number(state), details.last_reset)

    in_period: dict[int, list[Reading]] = {}
    for metadata_id, ts_us, state, attributes_id in states:
        in_period.setdefault(metadata_id, []).append(reading(ts_us, state, attributes_id))
    carried = {row[0]: reading(row[1], row[2], row[3]) for row in carry}
    result: dict[int, tuple[PeriodValues, bool]] = {}
    for entity in entities:
        readings = in_period.get(entity.metadata_id, [])
        before = carried.get(entity.metadata_id)
        if not readings and before is None:
            continue
        values: PeriodValues | None
        if entity.state_class in METER_CLASSES:
            meter = accumulate(entity.state_class, previous.get(entity.statistic_id), before,
                               readings)
            values = None if meter is None else PeriodValues(
                sum=meter.sum, state=meter.state, meter_ref=meter.ref
            )
        else:
            values = time_weighted(start_us, end_us, before, readings)
        if values is not None:
            result[entity.statistic_id] = (values, bool(readings))
    return result
