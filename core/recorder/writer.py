"""Turns states into rows as they arrive, and writes batches of rows in one transaction each.

A state becomes a row tuple in the bus listener (`add_state`), so the State object dies at
once instead of waiting in a queue: a burst of 100,000 states then leaves no 100,000 objects
for the garbage collector to scan (its full passes are what would stall the event loop).
Events are few and are converted when written.

The writer is the only connection that writes, so it hands out new ids itself (states_meta,
state_attributes, statistics_meta, event_types, event_data) from counters loaded at start,
and queues the new rows with the states that use them. It remembers an entity's last
attributes by identity (the state machine reuses the same attributes object while they do
not change) and attribute and event-data blobs by their JSON text. A blob not in memory is
looked up in the database by its CRC-32 when the batch is written, so each distinct blob is
stored once. A batch that fails is put back whole and written again later.

Rows are keyed by (entity, time in microseconds); see COLLISION_WINDOW_US for two updates of
one entity within the same microsecond.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

import aiosqlite

from plantpulse.core.const import (
    ATTR_FRIENDLY_NAME,
    ATTR_STATE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    EventOrigin,
)
from plantpulse.core.events import Event
from plantpulse.core.jsonenc import json_dumps
from plantpulse.core.platforms.sensor import StateClass
from plantpulse.core.recorder.const import (
    MICROSECONDS,
    SHORT_TERM_SECONDS,
    SOURCE_RECORDER,
    UNSERIALIZABLE_KEY,
    UNSERIALIZABLE_REPR_CHARS,
)
from plantpulse.core.recorder.database import async_fetch_chunked, async_in_transaction
from plantpulse.core.recorder.filters import EntityFilter
from plantpulse.core.states import State

_LOGGER = logging.getLogger(__name__)

BLOB_CACHE_SIZE: Final = 16_384
EVENT_ROWS_PER_STEP: Final = 200
# Live updates of one entity closer than this to the previous one (same microsecond, or a
# clock read twice) move 1 us past it instead of replacing it; measured readings at the same
# time still replace each other, as a re-sent reading should.
COLLISION_WINDOW_US: Final = 1_000
ORIGINS: Final = (EventOrigin.LOCAL, EventOrigin.REMOTE)

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
    "source = excluded.source, unit_of_measurement = excluded.unit_of_measurement, "
    "state_class = excluded.state_class, name = excluded.name"
)
_MARK_LATE: Final = (
    "INSERT INTO statistics_recompile (start_s) VALUES (?) ON CONFLICT (start_s) DO NOTHING"
)
_INSERT_EVENT: Final = (
    "INSERT INTO events (event_type_id, ts_us, data_id, origin_idx, context_id, "
    "context_user_id, context_parent_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_FILTERED: Final = -1


def encode_blob(data: Mapping[str, Any]) -> tuple[str, Exception | None]:
    """The JSON stored for attributes or event data, and the encoder's error if it refused.

    Data the encoder refuses (an object it does not know, NaN) is stored as
    `{"unserializable": "<repr>"}` instead, so one bad event never holds up the others.
    """
    try:
        return json_dumps(data), None
    except Exception as err:
        try:
            text = repr(data)
        except Exception:
            text = f"<{type(data).__name__} that cannot be shown>"
        return json_dumps({UNSERIALIZABLE_KEY: text[:UNSERIALIZABLE_REPR_CHARS]}), err


def blob_hash(text: str) -> int:
    """The CRC-32 by which a stored blob is found."""
    return zlib.crc32(text.encode())


@dataclass
class _Pending:
    """Rows waiting for the id of a blob that is not in memory."""

    text: str
    rows: list[Any] = field(default_factory=list)
    attributes: Mapping[str, Any] | None = None


@dataclass
class Batch:
    """What one transaction writes: taken from the queue by `RowWriter.take`.

    `deferred` are states rows whose attributes blob was not in memory, with its key; they
    join `states` once the blob's id is found or made. Once an entity has a deferred row, its
    later rows queue behind it there too (with key None: their blob id is known), so two
    rows for one entity and time are written in the order they came and the later wins.
    """

    meta: list[tuple[int, str]] = field(default_factory=list)
    attributes: list[tuple[int, int, int, str]] = field(default_factory=list)
    statistics: list[tuple[int, str, str, str | None, str, str | None]] = field(
        default_factory=list
    )
    states: list[tuple[Any, ...]] = field(default_factory=list)
    deferred: list[tuple[tuple[Any, ...], tuple[int, str] | None, Mapping[str, Any]]] = field(
        default_factory=list
    )
    deferred_entities: set[int] = field(default_factory=set)
    event_types: list[tuple[int, str]] = field(default_factory=list)
    event_data: list[tuple[int, int, str]] = field(default_factory=list)
    events: list[Any] = field(default_factory=list)
    late_periods: set[int] = field(default_factory=set)

    @property
    def state_count(self) -> int:
        """States rows in the batch."""
        return len(self.states) + len(self.deferred)


class RowWriter:
    """Owns the writer connection's ids and caches, the queue of rows, and writes batches."""

    def __init__(self, conn: aiosqlite.Connection, entity_filter: EntityFilter) -> None:
        self._conn = conn
        self._filter = entity_filter
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
        self._imported: dict[str, int] = {}
        self._statistic_entities: set[int] = set()
        self._next_statistic_id = 1
        self._queue = Batch()
        self._refused_sources: set[str] = set()
        self.queued_total = 0

    def current_attributes_id(self, metadata_id: int) -> int | None:
        """The attributes id the entity's next unchanged state will reuse without a lookup."""
        known = self._last_attributes.get(metadata_id)
        return None if known is None else known[1]

    def forget_attributes(self, ids: Iterable[int]) -> None:
        """Drop deleted attribute rows from memory (the purge deleted them)."""
        gone = set(ids)
        for key in [key for key, value in self._attribute_ids.items() if value in gone]:
            del self._attribute_ids[key]

    def queued_attribute_ids(self, metadata_id: int, ids: Iterable[int]) -> set[int]:
        """Those of `ids` that queued states rows of the entity refer to (not written yet)."""
        wanted = set(ids)
        return {row[3] for row in self._queue.states if row[0] == metadata_id and row[3] in wanted}

    def forget_event_data(self, ids: Iterable[int]) -> None:
        """Drop deleted event-data rows from memory (the purge deleted them)."""
        gone = set(ids)
        for key in [key for key, value in self._data_ids.items() if value in gone]:
            del self._data_ids[key]

    async def async_load(self) -> None:
        """Load ids and counters from the database; empties the queue and the blob caches."""
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
        self._imported = {
            entity_id: statistic_id for statistic_id, entity_id in await conn.execute_fetchall(
                "SELECT id, statistic_id FROM statistics_meta WHERE source != ?",
                (SOURCE_RECORDER,),
            )
        }
        self._last_attributes.clear()
        self._attribute_ids.clear()
        self._data_ids.clear()
        self._queue = Batch()

    async def _async_next_id(self, table: str, column: str) -> int:
        rows = await self._conn.execute_fetchall(f"SELECT MAX({column}) FROM {table}")
        return (rows[0][0] or 0) + 1

    # The queue (on the loop, in the bus listener) ---------------------------------------

    def add_state(self, state: State) -> None:
        """Queue a state as a row (unless its entity is filtered out)."""
        metadata_id = self._meta.get(state.entity_id)
        if metadata_id is None:
            metadata_id = self._new_entity(state.entity_id)
        if metadata_id == _FILTERED:
            return
        measured = state.measured_timestamp
        if measured is None:
            ts = state.last_updated_timestamp
            ts_us = round(ts * MICROSECONDS)
            previous_us = self._last_live_us.get(metadata_id, 0)
            if 0 <= previous_us - ts_us < COLLISION_WINDOW_US:
                ts_us = previous_us + 1
            self._last_live_us[metadata_id] = ts_us
        else:
            ts = measured
            ts_us = round(ts * MICROSECONDS)
        changed = state.last_changed_timestamp
        changed_us = round(changed * MICROSECONDS) if changed < ts else None
        context = state.context
        if context.user_id is None and context.parent_id is None:
            contexts: tuple[str | None, ...] = (None, None, None)
        else:
            contexts = (context.id, context.user_id, context.parent_id)
        attributes = state.attributes
        known = self._last_attributes.get(metadata_id)
        if known is not None and known[0] is attributes:
            attributes_id = known[1]
        elif not attributes:
            attributes_id = None
            self._last_attributes[metadata_id] = (attributes, None)
        else:
            if ATTR_STATE_CLASS in attributes:
                self._register_statistic(state.entity_id, metadata_id, attributes)
            text = self._encode(attributes, f"attributes of {state.entity_id}")
            attributes_id = self._attribute_ids.get((metadata_id, text))
            if attributes_id is None:
                self.queued_total += 1
                self._queue.deferred.append((
                    (metadata_id, ts_us, state.state, None, changed_us, *contexts),
                    (metadata_id, text), attributes,
                ))
                self._queue.deferred_entities.add(metadata_id)
                return
            self._last_attributes[metadata_id] = (attributes, attributes_id)
        self.queued_total += 1
        row = (metadata_id, ts_us, state.state, attributes_id, changed_us, *contexts)
        if metadata_id in self._queue.deferred_entities:
            self._queue.deferred.append((row, None, attributes))
        else:
            self._queue.states.append(row)

    def _encode(self, data: Mapping[str, Any], source: str) -> str:
        """The blob to store; a refusal is logged once per `source`."""
        text, error = encode_blob(data)
        if error is not None and source not in self._refused_sources:
            self._refused_sources.add(source)
            _LOGGER.warning("The recorder cannot store the %s as JSON (%s); they are stored as "
                            "%r with their Python repr instead (logged once)", source, error,
                            UNSERIALIZABLE_KEY)
        return text

    def _new_entity(self, entity_id: str) -> int:
        if not self._filter(entity_id):
            self._meta[entity_id] = _FILTERED
            return _FILTERED
        metadata_id = self._meta[entity_id] = self._next_meta_id
        self._next_meta_id += 1
        self._queue.meta.append((metadata_id, entity_id))
        return metadata_id

    def _register_statistic(
        self, entity_id: str, metadata_id: int, attributes: Mapping[str, Any]
    ) -> None:
        try:
            state_class = StateClass(attributes[ATTR_STATE_CLASS])
        except ValueError:
            return
        unit = attributes.get(ATTR_UNIT_OF_MEASUREMENT)
        name = attributes.get(ATTR_FRIENDLY_NAME)
        described = (state_class.value, None if unit is None else str(unit),
                     None if name is None else str(name))
        known = self._statistics.get(entity_id)
        if known is not None and known[1:] == described:
            return
        if known is None:
            statistic_id = self._imported.pop(entity_id, None) or self.reserve_statistic_id()
        else:
            statistic_id = known[0]
        self._statistics[entity_id] = (statistic_id, *described)
        self._statistic_entities.add(metadata_id)
        self._queue.statistics.append((statistic_id, entity_id, SOURCE_RECORDER, described[1],
                                       described[0], described[2]))

    def reserve_statistic_id(self) -> int:
        """A new statistics_meta id (the writer hands them out; an import asks it for one).

        A statistic imported for an entity id becomes the entity's own (source `recorder`)
        once the entity records states with a state class.
        """
        statistic_id = self._next_statistic_id
        self._next_statistic_id += 1
        return statistic_id

    def note_imported_statistic(self, statistic_id: str, metadata_id: int) -> None:
        """Remember a statistic an import created, so its entity, once live, continues it."""
        if statistic_id not in self._statistics:
            self._imported[statistic_id] = metadata_id

    def take(self, limit: int) -> Batch:
        """Take up to `limit` queued states rows, oldest first, with every new row they may
        refer to. Rows waiting for an attributes lookup go with the last of the states."""
        queue = self._queue
        self._queue = Batch()
        if len(queue.states) > limit:
            self._queue.states = queue.states[limit:]
            self._queue.deferred = queue.deferred
            self._queue.deferred_entities = queue.deferred_entities
            queue.states = queue.states[:limit]
            queue.deferred = []
            queue.deferred_entities = set()
        return queue

    def put_back(self, batch: Batch) -> None:
        """Return a batch that could not be written to the front of the queue."""
        queue = self._queue
        queue.meta[:0] = batch.meta
        queue.attributes[:0] = batch.attributes
        queue.statistics[:0] = batch.statistics
        queue.states[:0] = batch.states
        queue.deferred[:0] = batch.deferred
        queue.deferred_entities |= {row[0] for row, _key, _attributes in batch.deferred}
        queue.event_types[:0] = batch.event_types
        queue.event_data[:0] = batch.event_data

    def drop_oldest(self, count: int) -> int:
        """Drop up to `count` of the oldest queued states rows (a backlog that cannot be
        written), those waiting for an attributes lookup included; returns how many."""
        states, deferred = self._queue.states, self._queue.deferred
        plain = waiting = 0
        while plain + waiting < count and (plain < len(states) or waiting < len(deferred)):
            if waiting == len(deferred) or (
                plain < len(states) and states[plain][1] <= deferred[waiting][0][1]
            ):
                plain += 1
            else:
                waiting += 1
        del states[:plain]
        del deferred[:waiting]
        self._queue.deferred_entities = {row[0] for row, _key, _attributes in deferred}
        return plain + waiting

    # Writing (in the writer task) -------------------------------------------------------

    async def async_write(
        self, batch: Batch, events: list[Event], late: tuple[int, int] = (0, 0)
    ) -> None:
        """Write `batch` and `events` in one transaction.

        A states row of an entity with statistics whose time falls in `late` (microseconds,
        from inclusive, to exclusive: the compiled periods still open to recompiling) marks
        its 5-minute period for recompiling, in the same transaction. Raises sqlite3.Error:
        the transaction is rolled back and the batch can be put back.
        """
        if batch.deferred:
            await self._async_resolve_attributes(batch)
        if events:
            data_pending: dict[str, _Pending] = {}
            # Rows are built on the loop: in slices, so a second's worth of events at a busy
            # plant does not hold up automations for ten milliseconds in one go.
            for start in range(0, len(events), EVENT_ROWS_PER_STEP):
                self._event_rows(events[start:start + EVENT_ROWS_PER_STEP], batch, data_pending)
                await asyncio.sleep(0)
            if data_pending:
                await self._async_resolve_event_data(data_pending, batch)
        self._mark_late(batch, late)
        try:
            await async_in_transaction(self._conn, partial(self._async_insert, batch))
        except BaseException:
            batch.events.clear()
            batch.late_periods.clear()
            raise

    async def _async_insert(self, batch: Batch) -> None:
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
                await self._conn.executemany(sql, rows)

    def _mark_late(self, batch: Batch, late: tuple[int, int]) -> None:
        late_from_us, late_to_us = late
        entities = self._statistic_entities
        for row in batch.states:
            ts_us = row[1]
            if late_from_us <= ts_us < late_to_us and row[0] in entities:
                seconds = ts_us // MICROSECONDS
                batch.late_periods.add(seconds - seconds % SHORT_TERM_SECONDS)

    async def _async_resolve_attributes(self, batch: Batch) -> None:
        pending: dict[tuple[int, str], _Pending] = {}
        for _row, key, attributes in batch.deferred:
            if key is not None and key not in pending:
                pending[key] = _Pending(key[1], attributes=attributes)
        hashes = {key: blob_hash(waiting.text) for key, waiting in pending.items()}
        found = {
            (metadata_id, text): attributes_id
            for attributes_id, metadata_id, text in await self._async_find_blobs(
                "SELECT attributes_id, metadata_id, shared_attrs FROM state_attributes "
                "WHERE hash IN ({})", set(hashes.values()),
            )
        }
        # Only now that nothing can fail: a failed lookup leaves the batch whole to put back.
        ids: dict[tuple[int, str], int] = {}
        for key, waiting in pending.items():
            attributes_id = found.get(key) or self._attribute_ids.get(key)
            if attributes_id is None:
                attributes_id = self._next_attributes_id
                self._next_attributes_id += 1
                batch.attributes.append((attributes_id, key[0], hashes[key], waiting.text))
            _remember(self._attribute_ids, key, attributes_id)
            ids[key] = attributes_id
        for row, key, attributes in batch.deferred:  # in the order they came
            if key is None:
                batch.states.append(row)
                self._last_attributes[row[0]] = (attributes, row[3])
                continue
            batch.states.append((*row[:3], ids[key], *row[4:]))
            self._last_attributes[key[0]] = (attributes, ids[key])
        batch.deferred = []
        batch.deferred_entities = set()

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
                text = self._encode(event.data, f"data of {event.event_type} events")
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
        return await async_fetch_chunked(self._conn, sql, sorted(hashes))


def _remember(cache: dict[Any, int], key: Any, value: int) -> None:
    if len(cache) >= BLOB_CACHE_SIZE:
        del cache[next(iter(cache))]
    cache[key] = value

