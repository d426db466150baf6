"""Retention: raw states and events kept short, 5-minute and hourly statistics kept long.

A purge runs as steps of the writer task, each deleting at most PURGE_CHUNK_ROWS rows in its
own transaction, so states keep being written in between. Per entity, the last state before
the cutoff is kept: it is the state in effect when the kept history begins. Attribute and
event-data blobs no longer referenced by any row are deleted too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Final

import aiosqlite

from plantpulse.core.clock import Clock
from plantpulse.core.recorder.config import RecorderConfig
from plantpulse.core.recorder.const import DAY_SECONDS, MICROSECONDS, PURGE_CHUNK_ROWS
from plantpulse.core.recorder.database import async_fetch_chunked, async_in_transaction
from plantpulse.core.recorder.writer import RowWriter

_LOGGER = logging.getLogger(__name__)

_OLD_STATES_SQL: Final = (
    "SELECT ts_us, attributes_id FROM states WHERE metadata_id = ? AND ts_us < ? "
    "ORDER BY ts_us LIMIT ?"
)
_LAST_OLD_SQL: Final = "SELECT MAX(ts_us) FROM states WHERE metadata_id = ? AND ts_us < ?"
_OLD_EVENTS_SQL: Final = (
    "SELECT event_id, data_id FROM events WHERE ts_us < ? ORDER BY ts_us LIMIT ?"
)


class Purger:
    """Deletes what is older than the retention settings, in small transactions."""

    def __init__(self, conn: aiosqlite.Connection, config: RecorderConfig,
                 writer: RowWriter, clock: Clock) -> None:
        self._clock = clock
        self._conn = conn
        self._config = config
        self._writer = writer

    async def async_purge(self, keep_days: int) -> AsyncIterator[None]:
        """Steps deleting states and events older than `keep_days`, then old statistics."""
        started = time.monotonic()
        now = self._clock.time()  # plant time: a simulation keeps its own past
        cutoff_us = round((now - keep_days * DAY_SECONDS) * MICROSECONDS)
        deleted = 0
        for (metadata_id,) in await self._conn.execute_fetchall(
            "SELECT metadata_id FROM states_meta ORDER BY metadata_id"
        ):
            async for count in self._async_purge_entity(metadata_id, cutoff_us):
                deleted += count
                yield
        async for count in self._async_purge_events(cutoff_us):
            deleted += count
            yield
        short_term_cutoff = int(now - self._config.keep_5minute_days * DAY_SECONDS)
        await self._async_purge_statistics("statistics_short_term", short_term_cutoff)
        await async_in_transaction(self._conn, lambda: self._conn.execute(
            "DELETE FROM statistics_runs WHERE start_s < ? AND start_s < "
            "(SELECT MAX(start_s) FROM statistics_runs)", (short_term_cutoff,),
        ))
        yield
        if self._config.keep_hourly_days is not None:
            await self._async_purge_statistics(
                "statistics", int(now - self._config.keep_hourly_days * DAY_SECONDS)
            )
        _LOGGER.info("Recorder purge removed %s states and events older than %s days in %.1f s",
                     deleted, keep_days, time.monotonic() - started)

    async def _async_purge_entity(self, metadata_id: int, cutoff_us: int) -> AsyncIterator[int]:
        rows = await self._conn.execute_fetchall(_LAST_OLD_SQL, (metadata_id, cutoff_us))
        keep_from_us = rows[0][0]
        if keep_from_us is None:
            return
        candidates: set[int] = set()
        while True:
            old = await self._conn.execute_fetchall(
                _OLD_STATES_SQL, (metadata_id, keep_from_us, PURGE_CHUNK_ROWS)
            )
            if not old:
                break
            candidates.update(attributes_id for _ts, attributes_id in old
                              if attributes_id is not None)
            last_us = old[-1][0]
            await async_in_transaction(self._conn, lambda last=last_us: self._conn.execute(
                "DELETE FROM states WHERE metadata_id = ? AND ts_us <= ?", (metadata_id, last)
            ))
            yield len(old)
        # From here on states queued meanwhile cannot take a candidate's id from memory (they
        # look their blob up when written, after the delete); rows queued before keep theirs.
        candidates.discard(self._writer.current_attributes_id(metadata_id))
        self._writer.forget_attributes(candidates)
        candidates -= self._writer.queued_attribute_ids(metadata_id, candidates)
        if not candidates:
            return
        used = {row[0] for row in await async_fetch_chunked(
            self._conn, "SELECT DISTINCT attributes_id FROM states WHERE metadata_id = ? "
            "AND attributes_id IN ({})", sorted(candidates), before=(metadata_id,),
        )}
        unused = sorted(candidates - used)
        if unused:
            await async_in_transaction(self._conn, lambda: self._delete_ids(
                "state_attributes", "attributes_id", unused
            ))

    async def _async_purge_events(self, cutoff_us: int) -> AsyncIterator[int]:
        candidates: set[int] = set()
        while True:
            old = await self._conn.execute_fetchall(_OLD_EVENTS_SQL,
                                                    (cutoff_us, PURGE_CHUNK_ROWS))
            if not old:
                break
            candidates.update(data_id for _event, data_id in old if data_id is not None)
            await async_in_transaction(self._conn, lambda old=old: self._delete_ids(
                "events", "event_id", [event_id for event_id, _data in old]
            ))
            yield len(old)
        if not candidates:
            return
        used = {row[0] for row in await async_fetch_chunked(
            self._conn, "SELECT DISTINCT data_id FROM events WHERE data_id IN ({})",
            sorted(candidates),
        )}
        unused = sorted(candidates - used)
        if unused:
            await async_in_transaction(self._conn, lambda: self._delete_ids(
                "event_data", "data_id", unused
            ))
            self._writer.forget_event_data(unused)

    async def _async_purge_statistics(self, table: str, cutoff_s: int) -> None:
        ids = [row[0] for row in await self._conn.execute_fetchall(
            "SELECT id FROM statistics_meta ORDER BY id"
        )]
        await async_in_transaction(self._conn, lambda: self._conn.executemany(
            f"DELETE FROM {table} WHERE metadata_id = ? AND start_s < ?",
            [(statistic_id, cutoff_s) for statistic_id in ids],
        ))

    async def _delete_ids(self, table: str, column: str, ids: Sequence[int]) -> None:
        await self._conn.executemany(f"DELETE FROM {table} WHERE {column} = ?",
                                     [(item,) for item in ids])
