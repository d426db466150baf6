"""The Recorder: listens to the bus, queues what happened, and runs the single writer task.

The bus listener turns each state into a row tuple right away (see writer.py) and queues
other events as they are. One writer task drains the queue in batches, one transaction
each: when the oldest queued item is `commit_interval` seconds old, at once when
EARLY_COMMIT_ROWS are queued (so a burst drains in large, fast transactions instead of
waiting), and when someone awaits `async_flush`. SQLite runs in aiosqlite's thread, so the
loop stays responsive during a burst. Between batches the same task runs background jobs in
small steps: compiling statistics, recompiling for late data, purging. Queries use a
second, read-only connection and never wait behind the writer. At stop the queue is written
within STOP_WRITE_SECONDS, and the connections are closed whatever happens (their threads
would otherwise keep the process alive).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from plantpulse.core.const import EVENT_STATE_BACKFILLED, EVENT_STATE_CHANGED, MATCH_ALL
from plantpulse.core.events import Event
from plantpulse.core.exceptions import PlantPulseError
from plantpulse.core.hub import StopStage
from plantpulse.core.recorder.config import RecorderConfig
from plantpulse.core.recorder.const import (
    COMPILE_DELAY_SECONDS,
    EARLY_COMMIT_ROWS,
    MAX_BACKLOG_EVENTS,
    MAX_BACKLOG_ROWS,
    MAX_BATCH_ROWS,
    PURGE_AFTER_START_SECONDS,
    PURGE_TIME,
    SHORT_TERM_SECONDS,
    STOP_INTERRUPT_SECONDS,
    STOP_WRITE_SECONDS,
    WAL_TRUNCATE_BYTES,
    Period,
    StatisticType,
)
from plantpulse.core.recorder.database import (
    async_configure_writer,
    async_open_reader,
    async_open_writer,
)
from plantpulse.core.recorder.events import EventReader
from plantpulse.core.recorder.history import HistoryReader
from plantpulse.core.recorder.migrations import async_prepare_schema, async_schema_version
from plantpulse.core.recorder.purge import Purger
from plantpulse.core.recorder.statistics_compile import StatisticsCompiler, floor_period
from plantpulse.core.recorder.statistics_query import StatisticsReader
from plantpulse.core.recorder.writer import Batch, RowWriter
from plantpulse.core.states import State

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

FAILURE_NOTIFICATION_ID = "recorder_write_failed"
RETRY_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)
JOB_COMPILE = "compile statistics"
JOB_RECOMPILE = "recompile statistics"
JOB_PURGE = "purge data older than {} days"


@dataclass
class _Job:
    """Background work done by the writer task in steps, between batches of states."""

    name: str
    seq: int
    steps: AsyncIterator[None]
    started: bool = False


@dataclass
class _Waiter:
    """An `async_flush` caller: waits until the states and events queued before it are
    committed, then for the jobs queued by then (up to `job_mark`)."""

    states_mark: int
    events_mark: int
    future: asyncio.Future[None]
    job_mark: int | None = field(default=None)


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
        self._compiler: StatisticsCompiler | None = None
        self._history: HistoryReader | None = None
        self._event_reader: EventReader | None = None
        self._statistics: StatisticsReader | None = None
        self._early: list[Event] = []
        self._events: list[Event] = []
        self._states_taken = 0
        self._states_committed = 0
        self._events_received = 0
        self._events_taken = 0
        self._events_committed = 0
        self._waiters: list[_Waiter] = []
        self._jobs: deque[_Job] = deque()
        self._job_seq = 0
        self._jobs_done = 0
        self._cancel_compile_timer: Callable[[], None] | None = None
        self._cancel_purge_timers: dict[str, Callable[[], None]] = {}
        self._purger: Purger | None = None
        self._wake = asyncio.Event()
        self._commit_due = False
        self._cancel_commit_timer: Callable[[], None] | None = None
        self._failures = 0
        self._stopping = False
        self._abandoned = False
        self._stop_requested = asyncio.Event()
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
        with the states already in the state machine (the first record of those entities).
        Raises RecorderDatabaseError.
        """
        self._remove_listener = self.hub.bus.async_listen(MATCH_ALL, self._early.append)
        try:
            self._conn = await async_open_writer(self.db_path)
            version = await async_schema_version(self._conn, self.db_path)
            await async_configure_writer(self._conn, self.db_path)
            await async_prepare_schema(self._conn, self.db_path, version)
            self._reader = await async_open_reader(self.db_path)
            self._writer = RowWriter(self._conn, self.config.entity_filter)
            await self._writer.async_load()
            self._compiler = StatisticsCompiler(
                self.hub, self._conn,
                min(self.config.purge_keep_days, self.config.keep_5minute_days),
            )
            marked = await self._compiler.async_load()
        except BaseException:
            await self._async_close()
            raise
        self._remove_listener()
        self._remove_listener = self.hub.bus.async_listen(MATCH_ALL, self._async_on_event)
        early, self._early = self._early, []
        before_early: dict[str, State | None] = {}
        for event in early:
            if event.event_type == EVENT_STATE_CHANGED:
                before_early.setdefault(event.data["entity_id"], event.data["old_state"])
        for state in self.hub.states.all():
            earlier = before_early.get(state.entity_id, state)
            if earlier is not None:
                self._writer.add_state(earlier)
        for event in early:
            self._async_on_event(event)
        self._purger = Purger(self._conn, self.config, self._writer, self.hub.clock)
        self._history = HistoryReader(self.hub, self._reader)
        self._event_reader = EventReader(self.hub, self._reader)
        self._statistics = StatisticsReader(self.hub, self._reader)
        self._task = self.hub.async_create_background_task(self._async_run(), "recorder writer")
        self.hub.async_on_stop(self.async_stop, StopStage.RECORDER)
        self._queue_job(JOB_COMPILE, self._compiler.async_compile_closed)
        if marked:
            self._queue_job(JOB_RECOMPILE, self._compiler.async_recompile)
        self._schedule_compile()
        if self.config.auto_purge:
            self._cancel_purge_timers["after start"] = self.hub.async_call_later(
                PURGE_AFTER_START_SECONDS, self._purge_due_after_start
            )
            self._schedule_nightly_purge()
        self._commit_due = True
        self._wake.set()

    async def async_stop(self) -> None:
        """Write everything queued, then close the database.

        Writing gives up after STOP_WRITE_SECONDS (a huge backlog on a slow disk): what is
        still queued is dropped with an error in the log, and the database is closed anyway.
        """
        if self._stopping:
            return
        self._stopping = True
        self._stop_requested.set()
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        self._cancel_timer()
        if self._cancel_compile_timer is not None:
            self._cancel_compile_timer()
            self._cancel_compile_timer = None
        for cancel in self._cancel_purge_timers.values():
            cancel()
        self._cancel_purge_timers.clear()
        self._commit_due = True
        self._wake.set()
        try:
            await self._async_finish_writing()
            while self._jobs:
                await self._jobs.popleft().steps.aclose()
            await self._async_checkpoint()
        finally:
            await self._async_close()

    async def _async_finish_writing(self) -> None:
        """Let the writer task write the queue, within STOP_WRITE_SECONDS."""
        task = self._task
        if task is None:
            return
        _done, running = await asyncio.wait({task}, timeout=STOP_WRITE_SECONDS)
        if not running:
            return
        _LOGGER.error("The recorder could not write everything queued within %.0f s of the "
                      "stop; the %s states and events still queued are lost",
                      STOP_WRITE_SECONDS, self._queued())
        self._abandoned = True
        self._drop_queue()
        await self._async_interrupt_writer()
        _done, running = await asyncio.wait({task}, timeout=STOP_INTERRUPT_SECONDS)
        if running:
            task.cancel()

    async def _async_interrupt_writer(self) -> None:
        """Abort the statement the writer connection runs (thread-safe in SQLite)."""
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._conn.interrupt()

    async def _async_close(self) -> None:
        """Stop listening and writing, and close both connections: shielded, so a stop step
        the hub cancels still closes them (their threads would keep the process alive)."""
        if self._remove_listener is not None:
            self._remove_listener()
            self._remove_listener = None
        task = self._task
        if task is not None and not task.done():
            await self._async_interrupt_writer()
            task.cancel()
        connections = [conn for conn in (self._reader, self._conn) if conn is not None]
        self._reader = self._conn = None
        if connections:
            await asyncio.shield(_async_close_connections(task, connections))

    # The queue ----------------------------------------------------------------------------

    def _async_on_event(self, event: Event) -> None:
        writer = self._writer
        assert writer is not None
        event_type = event.event_type
        if event_type == EVENT_STATE_CHANGED:
            state = event.data["new_state"]
            if state is None:
                return
            writer.add_state(state)
        elif event_type == EVENT_STATE_BACKFILLED:
            writer.add_state(event.data["state"])
        elif event_type in self._excluded_events:
            return
        else:
            self._events.append(event)
            self._events_received += 1
        if self._queued() >= EARLY_COMMIT_ROWS:
            if not self._commit_due:
                self._commit_due = True
                self._wake.set()
        elif self._cancel_commit_timer is None:
            self._cancel_commit_timer = self.hub.async_call_later(
                self.config.commit_interval, self._async_commit_timer
            )

    def _queued(self) -> int:
        """States and events waiting to be written."""
        assert self._writer is not None
        return self._writer.queued_total - self._states_taken + len(self._events)

    def _async_commit_timer(self) -> None:
        self._cancel_commit_timer = None
        self._commit_due = True
        self._wake.set()

    def _cancel_timer(self) -> None:
        if self._cancel_commit_timer is not None:
            self._cancel_commit_timer()
            self._cancel_commit_timer = None

    async def async_flush(self) -> None:
        """Return when everything queued so far is committed.

        Work those states cause is waited for too: statistics recompiled for late data,
        and any compile or purge queued before.
        """
        if self._task is None or self._task.done():
            return
        if not self._queued() and not self._jobs:
            return
        assert self._writer is not None
        future = self.hub.loop.create_future()
        self._waiters.append(_Waiter(self._writer.queued_total, self._events_received, future))
        self._commit_due = True
        self._wake.set()
        await future

    # The writer task ----------------------------------------------------------------------

    async def _async_run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while True:
                try:
                    if self._commit_due or (self._jobs and self._queued()):
                        self._commit_due = False
                        self._cancel_timer()
                        await self._async_write_pending()
                    elif self._jobs and not self._stopping:
                        await self._async_job_step()
                    else:
                        break
                except Exception:
                    _LOGGER.exception("Recorder writer error; it carries on with what follows")
                    self._drop_queue()
                self._release_waiters()
            self._release_waiters()
            if self._stopping and not self._queued():
                break
        for waiter in self._waiters:
            if not waiter.future.done():
                waiter.future.set_result(None)
        self._waiters.clear()

    def _queue_job(self, name: str, steps: Callable[[], AsyncIterator[None]]) -> None:
        """Queue background work, unless the same work is queued and not started yet."""
        if any(job.name == name and not job.started for job in self._jobs):
            return
        self._job_seq += 1
        self._jobs.append(_Job(name, self._job_seq, steps()))
        self._wake.set()

    async def _async_job_step(self) -> None:
        job = self._jobs[0]
        job.started = True
        try:
            await anext(job.steps)
            return
        except StopAsyncIteration:
            pass
        except (sqlite3.Error, OSError) as err:
            _LOGGER.error("Recorder could not %s: %s", job.name, err)
        except Exception:
            _LOGGER.exception("Recorder could not %s", job.name)
        self._jobs.popleft()
        self._jobs_done = job.seq

    async def async_run_on_writer(
        self, name: str, work: Callable[[aiosqlite.Connection, RowWriter], Awaitable[_T]]
    ) -> _T:
        """Run `work(connection, writer)` on the writer connection, as a job of the writer
        task (between batches, never racing compiles or purges), and return its result.

        For writes other than recording (statistics imports). `work` commits its own
        transactions. Raises what `work` raised, or PlantPulseError when the recorder stops
        before the job ran.
        """
        future: asyncio.Future[_T] = self.hub.loop.create_future()

        async def steps() -> AsyncIterator[None]:
            assert self._conn is not None and self._writer is not None
            try:
                result = await work(self._conn, self._writer)
            except Exception as err:  # handed to the caller
                future.set_exception(err)
            else:
                future.set_result(result)
            yield

        self._job_seq += 1
        self._jobs.append(_Job(f"{name} ({self._job_seq})", self._job_seq, steps()))
        self._wake.set()
        task = self._task
        waiting: set[asyncio.Future[Any]] = {future} if task is None else {future, task}
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if not future.done():
            future.cancel()
            raise PlantPulseError(f"The recorder stopped before it could {name}")
        return future.result()

    def _schedule_compile(self) -> None:
        """Compile each 5-minute period shortly after it closes."""
        now = self.hub.clock.time()
        due = floor_period(now) + SHORT_TERM_SECONDS + COMPILE_DELAY_SECONDS
        self._cancel_compile_timer = self.hub.async_call_later(due - now, self._compile_due)

    def async_purge(self, keep_days: int | None = None) -> None:
        """Queue a purge of states and events older than `keep_days` (default:
        purge_keep_days), and of statistics past their retention. `async_flush` waits for it.
        """
        assert self._purger is not None
        days = self.config.purge_keep_days if keep_days is None else keep_days
        self._queue_job(JOB_PURGE.format(days), lambda: self._purger.async_purge(days))

    def _purge_due_after_start(self) -> None:
        del self._cancel_purge_timers["after start"]
        self.async_purge()

    def _schedule_nightly_purge(self) -> None:
        """Purge every night at PURGE_TIME, site time."""
        zone = self.hub.site.tz
        now = self.hub.clock.now().astimezone(zone)
        day = now.date() if now.time() < PURGE_TIME else now.date() + timedelta(days=1)
        due = datetime.combine(day, PURGE_TIME, tzinfo=zone)

        def nightly() -> None:
            self.async_purge()
            self._schedule_nightly_purge()

        self._cancel_purge_timers["nightly"] = self.hub.async_call_later(
            due.timestamp() - now.timestamp(), nightly
        )

    def _compile_due(self) -> None:
        assert self._compiler is not None
        self._queue_job(JOB_COMPILE, self._compiler.async_compile_closed)
        self._queue_job(JOB_RECOMPILE, self._compiler.async_recompile)
        self._schedule_compile()

    async def _async_write_pending(self) -> None:
        writer, compiler = self._writer, self._compiler
        assert writer is not None and compiler is not None
        batch = writer.take(MAX_BATCH_ROWS)
        events = self._events[:MAX_BATCH_ROWS]
        del self._events[:MAX_BATCH_ROWS]
        self._states_taken += batch.state_count
        self._events_taken += len(events)
        late = (compiler.late_after_us(), compiler.late_before_us)
        try:
            await writer.async_write(batch, events, late)
        except (sqlite3.Error, OSError) as err:
            await self._async_write_failed(err, batch, events)
            return
        except Exception:
            _LOGGER.exception("Cannot record %s states and %s events; they and the rest of the "
                              "queue are dropped", batch.state_count, len(events))
            self._drop_queue()
            await writer.async_load()
        if batch.late_periods:
            self._queue_job(JOB_RECOMPILE, compiler.async_recompile)
        self._states_committed = self._states_taken
        self._events_committed = self._events_taken
        if self._failures:
            self._failures = 0
            self.hub.notifications.async_dismiss(FAILURE_NOTIFICATION_ID)
        await self._async_checkpoint_if_large()
        queued = self._queued()
        if queued and (queued >= EARLY_COMMIT_ROWS or self._waiters or self._stopping):
            self._commit_due = True

    async def _async_write_failed(self, err: Exception, batch: Batch, events: list[Event]) -> None:
        writer = self._writer
        assert writer is not None
        if self._abandoned:
            return  # the stop gave up on the queue and interrupted this write; it said so
        self._failures += 1
        message = (
            f"The recorder cannot write to {self.db_path}: {err}. States are kept in memory "
            "and written when the database can be written again (free disk space or fix the "
            "file's permissions)."
        )
        if self._failures == 1:
            _LOGGER.error("%s", message)
            self.hub.notifications.async_create(message, title="Recorder cannot write",
                                          notification_id=FAILURE_NOTIFICATION_ID)
        if self._stopping:
            _LOGGER.error("Stopping: %s queued states and events are lost",
                          self._queued() + batch.state_count + len(events))
            self._drop_queue()
            return
        writer.put_back(batch)
        self._events[:0] = events
        self._states_taken -= batch.state_count
        self._events_taken -= len(events)
        self._limit_backlog()
        delay = RETRY_DELAYS[min(self._failures, len(RETRY_DELAYS)) - 1]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), delay)
        self._commit_due = True

    def _limit_backlog(self) -> None:
        """Drop the oldest states beyond MAX_BACKLOG_ROWS and events beyond
        MAX_BACKLOG_EVENTS, so an outage cannot use up the memory."""
        writer = self._writer
        assert writer is not None
        states = writer.drop_oldest(writer.queued_total - self._states_taken - MAX_BACKLOG_ROWS)
        self._states_taken += states
        self._states_committed += states
        events = max(0, len(self._events) - MAX_BACKLOG_EVENTS)
        del self._events[:events]
        self._events_taken += events
        self._events_committed += events
        if states or events:
            _LOGGER.error("Recorder backlog is full while the database cannot be written: "
                          "dropped the %s oldest states and %s oldest events", states, events)

    def _drop_queue(self) -> None:
        """Give up on everything queued (counted as done, so flush callers return)."""
        assert self._writer is not None
        self._writer.take(self._writer.queued_total)
        self._states_taken = self._states_committed = self._writer.queued_total
        self._events.clear()
        self._events_taken = self._events_committed = self._events_received

    def _release_waiters(self) -> None:
        if not self._waiters:
            return
        still = []
        for waiter in self._waiters:
            if waiter.job_mark is None:
                if (waiter.states_mark > self._states_committed
                        or waiter.events_mark > self._events_committed):
                    still.append(waiter)
                    continue
                waiter.job_mark = self._job_seq
            if self._jobs and waiter.job_mark > self._jobs_done:
                still.append(waiter)
            elif not waiter.future.done():
                waiter.future.set_result(None)
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
        compact: bool = False,
    ) -> dict[str, list[dict[str, Any]]]:
        """States per entity from `start` to `end`, the first being the one in effect at start.

        Rows have Home Assistant's history shape (`entity_id, state, attributes, last_changed,
        last_updated`, ISO times with offset), ordered by the time the value belongs to (the
        measured time when the source gave one). `minimal_response` gives, after the first
        row, only `state` and `last_changed` of rows whose state changed; `no_attributes`
        returns `{}` as attributes; `significant_changes_only` leaves out rows where only
        attributes changed. `entity_ids=None` means every recorded entity. Only committed
        states are seen: await `async_flush()` first to include what is queued.

        `compact` gives Home Assistant's WebSocket history shape instead, made in the
        executor: `{"s": state, "a": attributes, "lu": last_updated, "lc": last_changed}`
        with times as float POSIX seconds, `lc` only where it differs from `lu`; the rows
        `minimal_response` shortens are `{"s", "lu"}` with `lu` the time the state changed.
        """
        assert self._history is not None
        return await self._history.async_get_history(
            entity_ids, start, end, minimal_response=minimal_response,
            no_attributes=no_attributes, significant_changes_only=significant_changes_only,
            compact=compact,
        )

    async def async_get_events(
        self,
        event_types: list[str],
        start: datetime,
        end: datetime | None = None,
        *,
        data_filter: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Recorded events of `event_types` fired from `start` to `end` (default: no end).

        Oldest first, in Home Assistant's event shape: `{event_type, data, origin, time_fired,
        context: {id, parent_id, user_id}}` with `time_fired` ISO in UTC. `data_filter` keeps
        only events whose data has each of its keys with that value (`{"key": "pump_1"}`);
        it is applied in the executor, after the time range narrowed the rows. Only
        committed events are seen: await `async_flush()` first to include what is queued.
        """
        assert self._event_reader is not None
        return await self._event_reader.async_get_events(event_types, start, end, data_filter)

    async def async_get_statistics(
        self,
        statistic_ids: list[str],
        period: Period | str,
        start: datetime,
        end: datetime | None = None,
        types: set[StatisticType] | set[str] | None = None,
        *,
        epoch_ms: bool = False,
    ) -> dict[str, list[dict[str, Any]]]:
        """Statistics rows per statistic id (an entity id) for `period` from `start` to `end`.

        `period` is a Period ('5minute', 'hour', 'day', 'month'). Rows are `{start, end, mean,
        min, max, sum, state, change}` with ISO times: UTC for 5-minute and hourly rows, the
        site's time zone for days and months (local midnights). Values that do not apply
        to a statistic are None (mean/min/max for meters, sum/state/change for
        measurements); `types` (StatisticType names) limits the keys to those named. The
        period holding `start` is included; periods start before `end` (default: now).
        `epoch_ms` gives `start` and `end` as float milliseconds since the epoch instead
        (Home Assistant's WebSocket shape). Raises ValueError for an unknown period or type.
        """
        assert self._statistics is not None
        return await self._statistics.async_get_statistics(
            statistic_ids, period, start, end, types, epoch_ms=epoch_ms
        )


async def _async_close_connections(
    writer_task: asyncio.Task[None] | None, connections: list[aiosqlite.Connection]
) -> None:
    """Close `connections` once the writer task has ended (or STOP_INTERRUPT_SECONDS)."""
    if writer_task is not None and not writer_task.done():
        await asyncio.wait({writer_task}, timeout=STOP_INTERRUPT_SECONDS)
    for conn in connections:
        await conn.close()
