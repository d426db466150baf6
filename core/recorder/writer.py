"""Turns states and events into rows and writes each batch in one transaction.

The writer is the only connection that writes, so it hands out new ids itself (states_meta,
state_attributes, event_types, event_data) from counters loaded at start, and remembers the
rows it made: an entity's last attributes by identity (the state machine reuses the same
attributes object while they do not change), attribute and event-data blobs by their JSON
text. A blob not in memory is looked up in the database by its CRC-32 before a new row is
made, so each distinct blob is stored once. After a failed transaction every cache is
reloaded from the database.

Rows are keyed by (entity, time in microseconds); see COLLISION_WINDOW_US for two updates of
one entity within the same microsecond.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from typing import Any, Final

import aiosqlite

from plantpulse.core.const import (
    ATTR_FRIENDLY_NAME,
    ATTR_STATE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    EventOrigin,
)
from plantpulse.core.events import Context, Event
from plantpulse.core.recorder.const import (
    CONVERT_CHUNK,
    IN_CHUNK,
    MICROSECONDS,
    SHORT_TERM_SECONDS,
    SOURCE_RECORDER,
)
from plantpulse.core.recorder.filters import EntityFilter
from plantpulse.core.states import State

BLOB_CACHE_SIZE: Final = 16_384
# Live updates of one entity closer than this to the previous one (same microsecond, or a
# clock read twice) move 1 us past it instead of replacing it; measured readings at the same
# time still replace each other, as a re-sent reading should.
COLLISION_WINDOW_US: Final = 1_000
ORIGINS: Final = (EventOrigin.LOCAL, EventOrigin.REMOTE)
STATISTIC_STATE_CLASSES: Final = frozenset({"measurement", "total", "total_increasing"})

_INSERT_META: Final = "INSERT INTO states_meta (metadata_id, entity_id) VALUES (?, ?)"
_INSERT_ATTRIBUTES: Final = (
    "INSERT INTO state_attributes (attributes_id, metadata_id, hash, shared_attrs) "
    "VALUES (?, ?, ?, ?)"
)
_INSERT_STATE: Final = (
    "INSERT INTO states (metadata_id, ts_us, state, attributes_id, last_changed_us, "
    "context_id, context_user_id, context_parent_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (metadata_id, ts_us) DO UPDATE SET state = excluded.state, "
    "attributes_id = excluded.attributes_id, last_changed_us = excluded.last_changed_us, "
    "context_id = excluded.context_id, context_user_id = excluded.context_user_id, "
    "context_parent_id = excluded.context_parent_id"
)
_INSERT_EVENT_TYPE: Final = "INSERT INTO event_types (event_type_id, event_type) VALUES (?, ?)"
_INSERT_EVENT_DATA: Final = (
    "INSERT INTO event_data (data_id, hash, shared_data) VALUES (?, ?, ?)"
)
_UPSERT_STATISTIC: Final = (
    "INSERT INTO statistics_meta (id, statistic_id, source, unit_of_measurement, state_class, "
    "name) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (statistic_id) DO UPDATE SET "
    "unit_of_measurement = excluded.unit_of_measurement, state_class = excluded.state_class, "
    "name = excluded.name"
)
_MARK_LATE: Final = (
    "INSERT INTO statistics_recompile (start_s) VALUES (?) ON CONFLICT (start_s) DO NOTHING"
)
_INSERT_EVENT: Final = (
    "INSERT INTO events (event_type_id, ts_us, data_id, origin_idx, context_id, "
    "context_user_id, context_parent_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_FILTERED: Final = -1


def json_default(value: Any) -> Any:
    """Make values JSON can't encode storable: states, contexts, times, sets, enums."""
    if isinstance(value, State | Context):
        return value.as_dict()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, Enum):
        return value.value
    return str(value)


def dumps(data: Mapping[str, Any]) -> str:
    """Compact JSON as stored in the attribute and event-data tables."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=json_default)


def blob_hash(text: str) -> int:
    """The CRC-32 by which a stored blob is found."""
    return zlib.crc32(text.encode())


def to_us(timestamp: float) -> int:
    """A POSIX timestamp in seconds as integer microseconds."""
    return round(timestamp * MICROSECONDS)


@dataclass
class _Pending:
    """Rows waiting for the id of a blob that is not in memory: states rows by their index
    in the batch (tuples, patched once the id is known), events rows as lists."""

    text: str
    rows: list[Any] = field(default_factory=list)
    attributes: Mapping[str, Any] | None = None


@dataclass
class Batch:
    """What one transaction writes, built by RowWriter.async_prepare."""

    meta: list[tuple[int, str]] = field(default_factory=list)
    attributes: list[tuple[int, int, int, str]] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)
    event_types: list[tuple[int, str]] = field(default_factory=list)
    event_data: list[tuple[int, int, str]] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    statistics: list[tuple[int, str, str, str | None, str, str | None]] = field(
        default_factory=list
    )
    late_periods: set[int] = field(default_factory=set)


class RowWriter:
    """Owns the writer connection's caches and writes batches of states and events."""

    def __init__(self, conn: aiosqlite.Connection, entity_filter: EntityFilter) -> None:
        self._conn = conn
        self._filter = entity_filter
        self._loaded = False
        self._meta: dict[str, int] = {}
        self._next_meta_id = 1
        self._last_attributes: dict[int, tuple[Mapping[str, Any], int | None]] = {}
        self._last_live_us: dict[int, int] = {}
        self._attribute_ids: dict[tuple[int, str], int] = {}
        self._next_attributes_id = 1
        self._event_types: dict[str, int] = {}
        self._next_event_type_id = 1
        self._data_ids: dict[str, int] = {}
        self._next_data_id = 1
        self._statistics: dict[str, tuple[int, str, str | None, str | None]] = {}
        self._statistic_entities: set[int] = set()
        self._next_statistic_id = 1

    def metadata_id(self, entity_id: str) -> int | None:
        """The states_meta id of a recorded entity, if it has one yet."""
        found = self._meta.get(entity_id)
        return None if found is None or found == _FILTERED else found

    def current_attributes_id(self, metadata_id: int) -> int | None:
        """The attributes id the entity's next unchanged state will reuse without a lookup."""
        known = self._last_attributes.get(metadata_id)
        return None if known is None else known[1]

    def forget_attributes(self, ids: Iterable[int]) -> None:
        """Drop deleted attribute rows from memory (the purge deleted them)."""
        gone = set(ids)
        for key in [key for key, value in self._attribute_ids.items() if value in gone]:
            del self._attribute_ids[key]

    def forget_event_data(self, ids: Iterable[int]) -> None:
        """Drop deleted event-data rows from memory (the purge deleted them)."""
        gone = set(ids)
        for key in [key for key, value in self._data_ids.items() if value in gone]:
            del self._data_ids[key]

    async def async_load(self) -> None:
        """(Re)load ids and counters from the database; clears the blob caches."""
        conn = self._conn
        self._meta = {
            entity_id: metadata_id for metadata_id, entity_id
            in await conn.execute_fetchall("SELECT metadata_id, entity_id FROM states_meta")
        }
        self._event_types = {
            event_type: type_id for type_id, event_type
            in await conn.execute_fetchall("SELECT event_type_id, event_type FROM event_types")
        }
        self._next_meta_id = await self._async_next_id("states_meta", "metadata_id")
        self._next_attributes_id = await self._async_next_id("state_attributes", "attributes_id")
        self._next_event_type_id = await self._async_next_id("event_types", "event_type_id")
        self._next_data_id = await self._async_next_id("event_data", "data_id")
        self._next_statistic_id = await self._async_next_id("statistics_meta", "id")
        self._statistics = {
            entity_id: (statistic_id, state_class, unit, name)
            for statistic_id, entity_id, state_class, unit, name in await conn.execute_fetchall(
                "SELECT id, statistic_id, state_class, unit_of_measurement, name "
                "FROM statistics_meta WHERE source = ?", (SOURCE_RECORDER,),
            )
        }
        self._statistic_entities = {
            self._meta[entity_id] for entity_id in self._statistics if entity_id in self._meta
        }
        self._last_attributes.clear()
        self._attribute_ids.clear()
        self._data_ids.clear()
        self._loaded = True

    async def _async_next_id(self, table: str, column: str) -> int:
        rows = await self._conn.execute_fetchall(f"SELECT MAX({column}) FROM {table}")
        return (rows[0][0] or 0) + 1

    async def async_write(
        self, states: list[State], events: list[Event], late: tuple[int, int] = (0, 0)
    ) -> Batch:
        """Write `states` and `events` in one transaction; returns what was written.

        A state of an entity with statistics whose time falls in `late` (microseconds, from
        inclusive, to exclusive: the compiled periods still open to recompiling) marks its
        5-minute period for recompiling, in the same transaction. Raises sqlite3.Error (the
        transaction is rolled back and the caches reloaded).
        """
        if not self._loaded:
            await self.async_load()
        batch = await self._async_prepare(states, events, late)
        conn = self._conn
        await conn.execute("BEGIN")
        try:
            for sql, rows in (
                (_INSERT_META, batch.meta),
                (_INSERT_ATTRIBUTES, batch.attributes),
                (_UPSERT_STATISTIC, batch.statistics),
                (_INSERT_STATE, batch.states),
                (_INSERT_EVENT_TYPE, batch.event_types),
                (_INSERT_EVENT_DATA, batch.event_data),
                (_INSERT_EVENT, batch.events),
                (_MARK_LATE, [(start_s,) for start_s in sorted(batch.late_periods)]),
            ):
                if rows:
                    await conn.executemany(sql, rows)
            await conn.execute("COMMIT")
        except BaseException:
            self._loaded = False
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        return batch

    async def _async_prepare(
        self, states: list[State], events: list[Event], late: tuple[int, int]
    ) -> Batch:
        batch = Batch()
        attributes_pending: dict[tuple[int, str], _Pending] = {}
        for offset in range(0, len(states), CONVERT_CHUNK):
            self._state_rows(states[offset:offset + CONVERT_CHUNK], batch, attributes_pending,
                             late)
            await asyncio.sleep(0)
        if attributes_pending:
            await self._async_resolve_attributes(attributes_pending, batch)
        if events:
            data_pending: dict[str, _Pending] = {}
            self._event_rows(events, batch, data_pending)
            if data_pending:
                await self._async_resolve_event_data(data_pending, batch)
        return batch

    def _state_rows(
        self, states: Iterable[State], batch: Batch, pending: dict[tuple[int, str], _Pending],
        late: tuple[int, int],
    ) -> None:
        meta = self._meta
        last_attributes = self._last_attributes
        last_live = self._last_live_us
        rows = batch.states
        late_from_us, late_to_us = late
        statistic_entities = self._statistic_entities
        for state in states:
            metadata_id = meta.get(state.entity_id)
            if metadata_id is None:
                metadata_id = self._new_entity(state.entity_id, batch)
            if metadata_id == _FILTERED:
                continue
            measured = state.measured_timestamp
            if measured is None:
                ts = state.last_updated_timestamp
                ts_us = round(ts * MICROSECONDS)
                previous_us = last_live.get(metadata_id, 0)
                if 0 <= previous_us - ts_us < COLLISION_WINDOW_US:
                    ts_us = previous_us + 1
                last_live[metadata_id] = ts_us
            else:
                ts = measured
                ts_us = round(ts * MICROSECONDS)
            attributes = state.attributes
            known = last_attributes.get(metadata_id)
            if known is not None and known[0] is attributes:
                attributes_id = known[1]
            elif not attributes:
                attributes_id = None
                last_attributes[metadata_id] = (attributes, None)
            else:
                if ATTR_STATE_CLASS in attributes:
                    self._register_statistic(state.entity_id, metadata_id, attributes, batch)
                text = dumps(attributes)
                attributes_id = self._attribute_ids.get((metadata_id, text))
                if attributes_id is None:
                    waiting = pending.get((metadata_id, text))
                    if waiting is None:
                        waiting = pending[(metadata_id, text)] = _Pending(text)
                    waiting.rows.append(len(rows))
                    waiting.attributes = attributes
                else:
                    last_attributes[metadata_id] = (attributes, attributes_id)
            changed = state.last_changed_timestamp
            changed_us = round(changed * MICROSECONDS) if changed < ts else None
            context = state.context
            if context.user_id is None and context.parent_id is None:
                rows.append((metadata_id, ts_us, state.state, attributes_id, changed_us,
                             None, None, None))
            else:
                rows.append((metadata_id, ts_us, state.state, attributes_id, changed_us,
                             context.id, context.user_id, context.parent_id))
            if late_from_us <= ts_us < late_to_us and metadata_id in statistic_entities:
                seconds = ts_us // MICROSECONDS
                batch.late_periods.add(seconds - seconds % SHORT_TERM_SECONDS)

    def _register_statistic(
        self, entity_id: str, metadata_id: int, attributes: Mapping[str, Any], batch: Batch
    ) -> None:
        state_class = attributes[ATTR_STATE_CLASS]
        if state_class not in STATISTIC_STATE_CLASSES:
            return
        unit = attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        name = attributes.get(ATTR_FRIENDLY_NAME)
        described = (str(state_class), None if unit is None else str(unit),
                     None if name is None else str(name))
        known = self._statistics.get(entity_id)
        if known is not None and known[1:] == described:
            return
        if known is None:
            statistic_id = self._next_statistic_id
            self._next_statistic_id += 1
        else:
            statistic_id = known[0]
        self._statistics[entity_id] = (statistic_id, *described)
        self._statistic_entities.add(metadata_id)
        batch.statistics.append((statistic_id, entity_id, SOURCE_RECORDER, described[1],
                                 described[0], described[2]))

    def _new_entity(self, entity_id: str, batch: Batch) -> int:
        if not self._filter(entity_id):
            self._meta[entity_id] = _FILTERED
            return _FILTERED
        metadata_id = self._meta[entity_id] = self._next_meta_id
        self._next_meta_id += 1
        batch.meta.append((metadata_id, entity_id))
        return metadata_id

    async def _async_resolve_attributes(
        self, pending: dict[tuple[int, str], _Pending], batch: Batch
    ) -> None:
        hashes = {key: blob_hash(waiting.text) for key, waiting in pending.items()}
        found = {
            (metadata_id, text): attributes_id
            for attributes_id, metadata_id, text in await self._async_find_blobs(
                "SELECT attributes_id, metadata_id, shared_attrs FROM state_attributes "
                "WHERE hash IN ({})", set(hashes.values()),
            )
        }
        for key, waiting in pending.items():
            attributes_id = found.get(key)
            if attributes_id is None:
                attributes_id = self._next_attributes_id
                self._next_attributes_id += 1
                batch.attributes.append((attributes_id, key[0], hashes[key], waiting.text))
            _remember(self._attribute_ids, key, attributes_id)
            for index in waiting.rows:
                row = batch.states[index]
                batch.states[index] = (*row[:3], attributes_id, *row[4:])
            assert waiting.attributes is not None
            self._last_attributes[key[0]] = (waiting.attributes, attributes_id)

    def _event_rows(self, events: Iterable[Event], batch: Batch,
                    pending: dict[str, _Pending]) -> None:
        for event in events:
            type_id = self._event_types.get(event.event_type)
            if type_id is None:
                type_id = self._event_types[event.event_type] = self._next_event_type_id
                self._next_event_type_id += 1
                batch.event_types.append((type_id, event.event_type))
            context = event.context
            row = [type_id, round(event.time_fired_timestamp * MICROSECONDS), None,
                   ORIGINS.index(event.origin), context.id, context.user_id, context.parent_id]
            if event.data:
                text = dumps(event.data)
                data_id = self._data_ids.get(text)
                if data_id is None:
                    pending.setdefault(text, _Pending(text)).rows.append(row)
                else:
                    row[2] = data_id
            batch.events.append(row)

    async def _async_resolve_event_data(self, pending: dict[str, _Pending], batch: Batch) -> None:
        hashes = {text: blob_hash(text) for text in pending}
        found = {
            text: data_id for data_id, text in await self._async_find_blobs(
                "SELECT data_id, shared_data FROM event_data WHERE hash IN ({})",
                set(hashes.values()),
            )
        }
        for text, waiting in pending.items():
            data_id = found.get(text)
            if data_id is None:
                data_id = self._next_data_id
                self._next_data_id += 1
                batch.event_data.append((data_id, hashes[text], text))
            _remember(self._data_ids, text, data_id)
            for row in waiting.rows:
                row[2] = data_id

    async def _async_find_blobs(self, sql: str, hashes: set[int]) -> list[Any]:
        found: list[Any] = []
        ordered = sorted(hashes)
        for offset in range(0, len(ordered), IN_CHUNK):
            chunk = ordered[offset:offset + IN_CHUNK]
            found.extend(await self._conn.execute_fetchall(
                sql.format(", ".join("?" * len(chunk))), chunk
            ))
        return found


def _remember(cache: dict[Any, int], key: Any, value: int) -> None:
    if len(cache) >= BLOB_CACHE_SIZE:
        del cache[next(iter(cache))]
    cache[key] = value

