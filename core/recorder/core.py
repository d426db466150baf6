"""The Recorder: listens to the bus, queues what happened, and runs the single writer task.

Every event lands in an in-memory queue (a list append, nothing else, on the bus's hot
path). One writer task drains the queue in batches, one transaction each: when the oldest
queued item is `commit_interval` seconds old, at once when EARLY_COMMIT_ROWS are queued (so a
burst drains in large, fast transactions instead of waiting), and when someone awaits
`async_flush`. Turning states into rows runs on the loop in chunks with yields in between;
SQLite itself runs in aiosqlite's thread, so the loop stays responsive during a burst.
Queries use a second, read-only connection and never wait behind the writer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite

from plantpulse.core.const import EVENT_STATE_BACKFILLED, EVENT_STATE_CHANGED, MATCH_ALL
from plantpulse.core.events import Event
from plantpulse.core.hub import StopStage
from plantpulse.core.recorder.config import RecorderConfig
from plantpulse.core.recorder.const import (
    EARLY_COMMIT_ROWS,
    MAX_BACKLOG_ROWS,
    MAX_BATCH_ROWS,
    WAL_TRUNCATE_BYTES,
)
from plantpulse.core.recorder.database import async_open_reader, async_open_writer
from plantpulse.core.recorder.history import HistoryReader
from plantpulse.core.recorder.migrations import async_prepare_schema
from plantpulse.core.recorder.writer import RowWriter
from plantpulse.core.states import State

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

FAILURE_NOTIFICATION_ID = "recorder_write_failed"
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)


class Recorder:
    """Records states and events of one hub into its SQLite database and answers queries.

    Create with the validated config, then `await async_start()`. Stopping is registered with
    the hub (StopStage.RECORDER): the queue is flushed and the connections closed.
    """

    def __init__(self, hub: Hub, config: RecorderConfig) -> None:
        self.hub = hub
        self.config = config
        self._excluded_events = config.exclude_event_types
        self._conn: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._writer: RowWriter | None = None
        self._history: HistoryReader | None = None
        self._states: list[State] = []
        self._events: list[Event] = []
        self._enqueued = 0
        self._taken = 0
        self._committed = 0
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._commit_due = False
        self._cancel_commit_timer: Callable[[], None] | None = None
        self._failures = 0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._remove_listener: Callable[[], None] | None = None

    @property
    def db_path(self) -> Path:
        """The SQLite database file (the backup copies it with SQLite's online backup)."""
        return self.config.db_path

    # Start and stop -----------------------------------------------------------------------

    async def async_start(self) -> None:
        """Open (create or migrate) the database and start recording.

        Listening starts first, so states set while the database opens are kept, together
        with the states already in the state machine. Raises RecorderDatabaseError.
        """
        self._remove_listener = self.hub.bus.async_listen(MATCH_ALL, self._async_on_event)
        current = self.hub.states.all()
        self._states.extend(current)
        self._enqueued += len(current)
        try:
            self._conn = await async_open_writer(self.db_path)
            await async_prepare_schema(self._conn, self.db_path)
            self._reader = await async_open_reader(self.db_path)
            self._writer = RowWriter(self._conn, self.config.entity_filter)
            await self._writer.async_load()
        except BaseException:
            await self._async_close()
            raise
        self._history = HistoryReader(self.hub, self._reader)
        self._task = self.hub.async_create_background_task(self._async_run(), "recorder writer")
        self.hub.async_on_stop(self.async_stop, StopStage.RECORDER)
        self._commit_due = True
        self._wake.set()

    async def async_stop(self) -> None:
        """Write everything queued, then close the database."""
        if self._stopping:
            return
        self._stopping = True
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        self._cancel_timer()
        self._commit_due = True
        self._wake.set()
        if self._task is not None:
            await self._task
        await self._async_checkpoint()
        await self._async_close()

    async def _async_close(self) -> None:
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        for conn in (self._reader, self._conn):
            if conn is not None:
                await conn.close()
        self._reader = self._conn = None

    # The queue ----------------------------------------------------------------------------

    def _async_on_event(self, event: Event) -> None:
        event_type = event.event_type
        if event_type == EVENT_STATE_CHANGED:
            state = event.data["new_state"]
            if state is None:
                return
            self._states.append(state)
        elif event_type == EVENT_STATE_BACKFILLED:
            self._states.append(event.data["state"])
        elif event_type in self._excluded_events:
            return
        else:
            self._events.append(event)
        self._enqueued += 1
        if self._enqueued - self._taken >= EARLY_COMMIT_ROWS:
            if not self._commit_due:
                self._commit_due = True
                self._wake.set()
        elif self._cancel_commit_timer is None:
            self._cancel_commit_timer = self.hub.async_call_later(
                self.config.commit_interval, self._async_commit_timer
            )

    def _async_commit_timer(self) -> None:
        self._cancel_commit_timer = None
        self._commit_due = True
        self._wake.set()

    def _cancel_timer(self) -> None:
        if self._cancel_commit_timer is not None:
            self._cancel_commit_timer()
            self._cancel_commit_timer = None

    async def async_flush(self) -> None:
        """Return when everything queued so far is committed."""
        if self._enqueued == self._committed or self._task is None or self._task.done():
            return
        future = self.hub.loop.create_future()
        self._waiters.append((self._enqueued, future))
        self._commit_due = True
        self._wake.set()
        await future

    # The writer task ----------------------------------------------------------------------

    async def _async_run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._commit_due:
                self._commit_due = False
                self._cancel_timer()
                await self._async_write_pending()
            self._release_waiters()
            if self._stopping and self._enqueued == self._taken:
                break
        for _mark, future in self._waiters:
            if not future.done():
                future.set_result(None)
        self._waiters.clear()

    async def _async_write_pending(self) -> None:
        assert self._writer is not None
        states, events = self._take_batch()
        if not states and not events:
            return
        try:
            await self._writer.async_write(states, events)
        except (sqlite3.Error, OSError) as err:
            await self._async_write_failed(err, states, events)
            return
        except Exception:
            _LOGGER.exception("Cannot record %s states and %s events; they are dropped",
                              len(states), len(events))
        self._committed = self._taken
        if self._failures:
            self._failures = 0
            self.hub.notifications.dismiss(FAILURE_NOTIFICATION_ID)
        await self._async_checkpoint_if_large()
        if self._enqueued > self._taken and (
            self._enqueued - self._taken >= EARLY_COMMIT_ROWS or self._waiters or self._stopping
        ):
            self._commit_due = True

    def _take_batch(self) -> tuple[list[State], list[Event]]:
        states, events = self._states, self._events
        if len(states) + len(events) > MAX_BATCH_ROWS:
            states, self._states = states[:MAX_BATCH_ROWS], states[MAX_BATCH_ROWS:]
            room = MAX_BATCH_ROWS - len(states)
            events, self._events = events[:room], events[room:]
        else:
            self._states, self._events = [], []
        self._taken += len(states) + len(events)
        return states, events

    async def _async_write_failed(
        self, err: Exception, states: list[State], events: list[Event]
    ) -> None:
        self._failures += 1
        message = (
            f"The recorder cannot write to {self.db_path}: {err}. States are kept in memory "
            "and written when the database can be written again (free disk space or fix the "
            "file's permissions)."
        )
        if self._failures == 1:
            _LOGGER.error("%s", message)
            self.hub.notifications.create(message, title="Recorder cannot write",
                                          notification_id=FAILURE_NOTIFICATION_ID)
        self._taken -= len(states) + len(events)
        if self._stopping:
            _LOGGER.error("Stopping: %s queued states and events are lost",
                          self._enqueued - self._taken)
            self._states, self._events = [], []
            self._taken = self._committed = self._enqueued
            return
        self._states[:0] = states
        self._events[:0] = events
        backlog = len(self._states) + len(self._events)
        if backlog > MAX_BACKLOG_ROWS:
            excess = backlog - MAX_BACKLOG_ROWS
            _LOGGER.error("Recorder backlog is full: dropping the %s oldest states", excess)
            del self._states[:excess]
            self._taken += excess
            self._committed += excess
        delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS)) - 1]
        await asyncio.sleep(delay)
        self._commit_due = True

    def _release_waiters(self) -> None:
        if not self._waiters:
            return
        committed = self._committed
        still = []
        for mark, future in self._waiters:
            if mark <= committed:
                if not future.done():
                    future.set_result(None)
            else:
                still.append((mark, future))
        self._waiters = still

    async def _async_checkpoint_if_large(self) -> None:
        try:
            wal_size = os.stat(f"{self.db_path}-wal").st_size
        except OSError:
            return
        if wal_size > WAL_TRUNCATE_BYTES:
            await self._async_checkpoint()

    async def _async_checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it, unless a reader is busy."""
        conn = self._conn
        if conn is None:
            return
        try:
            await conn.execute("PRAGMA busy_timeout=0")
            try:
                await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                await conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as err:
            _LOGGER.debug("WAL checkpoint skipped: %s", err)

    # Queries ------------------------------------------------------------------------------

    async def async_get_history(
        self,
        entity_ids: list[str] | None,
        start: datetime,
        end: datetime | None = None,
        *,
        minimal_response: bool = False,
        no_attributes: bool = False,
        significant_changes_only: bool = False,
    ) -> dict[str, list[dict[str, Any]]]:
        """States per entity from `start` to `end`, the first being the one in effect at start.

        Rows have Home Assistant's history shape (`entity_id, state, attributes, last_changed,
        last_updated`, ISO times with offset), ordered by the time the value belongs to (the
        measured time when the source gave one). `minimal_response` gives, after the first
        row, only `state` and `last_changed` of rows whose state changed; `no_attributes`
        returns `{}` as attributes; `significant_changes_only` leaves out rows where only
        attributes changed. `entity_ids=None` means every recorded entity. Only committed
        states are seen: await `async_flush()` first to include what is queued.
        """
        assert self._history is not None
        return await self._history.async_get_history(
            entity_ids, start, end, minimal_response=minimal_response,
            no_attributes=no_attributes, significant_changes_only=significant_changes_only,
        )
