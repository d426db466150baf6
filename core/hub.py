"""The Hub: one per process, owning the bus, states, services, timers, tasks and lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from enum import IntEnum
from functools import partial
from inspect import isawaitable
from pathlib import Path
from typing import Any, TypeVar

from plantpulse.core.clock import Clock, SystemClock
from plantpulse.core.config.errors import ConfigIssue
from plantpulse.core.config.site import SiteConfig
from plantpulse.core.const import (
    EVENT_HUB_CLOSE,
    EVENT_HUB_START,
    EVENT_HUB_STARTED,
    EVENT_HUB_STOP,
    HubState,
)
from plantpulse.core.events import EventBus
from plantpulse.core.services import ServiceRegistry
from plantpulse.core.states import StateMachine

_LOGGER = logging.getLogger(__name__)
_T = TypeVar("_T")

STOP_STEP_TIMEOUT = 30.0
EXECUTOR_WORKERS = 4


class StopStage(IntEnum):
    """Order in which stop callbacks run: stop taking requests, stop devices, then flush."""

    HTTP = 10
    INTEGRATIONS = 20
    RECORDER = 90
    STORAGE = 100


StopCallback = Callable[[], Awaitable[None] | None]


class Hub:
    """The root object of a running hub. Passed explicitly; never a global.

    Create it inside a running event loop. Integrations reach everything through it:
    `hub.bus`, `hub.states`, `hub.services`, `hub.entities`, the registries, `hub.site`.
    """

    def __init__(
        self, config_dir: Path, site: SiteConfig | None = None, clock: Clock | None = None
    ) -> None:
        from plantpulse.core.entity_manager import EntityManager
        from plantpulse.core.notifications import Notifications
        from plantpulse.core.registry import AreaRegistry, DeviceRegistry, EntityRegistry

        self.loop = asyncio.get_running_loop()
        self.clock = clock or SystemClock()
        self.config_dir = Path(config_dir)
        self.site = site or SiteConfig()
        self.state = HubState.NOT_RUNNING
        self.bus = EventBus(self)
        self.states = StateMachine(self.bus, self.clock.time)
        self.services = ServiceRegistry(self)
        self.config: dict[str, Any] = {}
        self.config_issues: list[ConfigIssue] = []
        # True when configuration.yaml could not be read and only the web server runs.
        self.recovery_mode = False
        self.components: set[str] = set()
        self.data: dict[str, Any] = {}
        self.area_registry = AreaRegistry(self)
        self.device_registry = DeviceRegistry(self)
        self.entity_registry = EntityRegistry(self)
        self.entities = EntityManager(self)
        self.notifications = Notifications(self)
        self.executor = ThreadPoolExecutor(EXECUTOR_WORKERS, thread_name_prefix="plantpulse")
        self._tasks: set[asyncio.Future[Any]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self._timers: dict[object, Callable[[], None]] = {}
        self._stop_callbacks: list[tuple[StopStage, int, StopCallback]] = []
        self._stop_order = 0
        self._stopped = asyncio.Event()
        self.exit_code = 0

    def path(self, *parts: str) -> Path:
        """A path inside the config dir."""
        return self.config_dir.joinpath(*parts)

    # Tasks and executor -------------------------------------------------------------------

    def async_create_task(
        self, coro: Coroutine[Any, Any, _T], name: str | None = None
    ) -> asyncio.Task[_T]:
        """Run `coro` as a task that `async_block_till_done` waits for."""
        task = self.loop.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def async_create_background_task(
        self, coro: Coroutine[Any, Any, _T], name: str
    ) -> asyncio.Task[_T]:
        """Run a long-lived task (a poller, a connection) that stop cancels."""
        task = self.loop.create_task(coro, name=name)
        self._background.add(task)
        task.add_done_callback(self._background_done)
        return task

    def _task_done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Task %s failed", getattr(task, "get_name", lambda: task)(),
                          exc_info=error)

    def _background_done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            _LOGGER.error("Background task %s failed", task.get_name(), exc_info=error)

    def async_add_executor_job(self, func: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
        """Run blocking `func(*args)` in the hub's thread pool."""
        future = self.loop.run_in_executor(self.executor, func, *args)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
        return future

    async def async_block_till_done(self) -> None:
        """Wait until no tracked task is pending (tests and benchmarks use this)."""
        await asyncio.sleep(0)
        current = asyncio.current_task()
        while pending := [
            task for task in self._tasks if not task.done() and task is not current
        ]:
            await asyncio.wait(pending)

    # Timers -------------------------------------------------------------------------------

    def async_call_later(
        self, delay: float | timedelta, action: Callable[[], Any]
    ) -> Callable[[], None]:
        """Run `action` after `delay`; a coroutine it returns becomes a task. Returns cancel."""
        seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
        return self.async_call_at(self.clock.time() + max(0.0, seconds), action)

    def async_call_at(
        self, moment: datetime | float, action: Callable[[], Any], name: str | None = None
    ) -> Callable[[], None]:
        """Run `action` at a wall time (a datetime or a timestamp) of the hub's clock.

        A coroutine it returns becomes a task. Returns a function that cancels it; stopping
        the hub cancels every timer still pending.
        """
        timestamp = moment.timestamp() if isinstance(moment, datetime) else moment
        token = object()

        def fire() -> None:
            self._timers.pop(token, None)
            self._run_action(action, name)

        self._timers[token] = self.clock.call_at(timestamp, fire)

        def cancel() -> None:
            if (cancel_timer := self._timers.pop(token, None)) is not None:
                cancel_timer()

        return cancel

    def async_track_interval(
        self, action: Callable[[], Any], interval: float | timedelta, name: str
    ) -> Callable[[], None]:
        """Run `action` every `interval`; a run still busy makes the next tick skip. Returns cancel.

        Ticks are scheduled against the hub's clock, so a slow run does not make the interval
        drift.
        """
        seconds = interval.total_seconds() if isinstance(interval, timedelta) else interval
        running: asyncio.Task[Any] | None = None
        next_due = self.clock.time() + seconds
        cancel_tick: Callable[[], None] | None = None
        cancelled = False

        def tick() -> None:
            nonlocal running, next_due, cancel_tick
            if running is None or running.done():
                result = self._run_action(action, name)
                running = result if isinstance(result, asyncio.Task) else None
            else:
                _LOGGER.debug("%s is still running; skipping this tick", name)
            now = self.clock.time()
            next_due += seconds
            if next_due <= now:
                next_due = now + seconds
            if not cancelled:
                cancel_tick = self.async_call_at(next_due, tick, name)

        cancel_tick = self.async_call_at(next_due, tick, name)

        def cancel() -> None:
            nonlocal cancelled
            cancelled = True
            if cancel_tick is not None:
                cancel_tick()

        return cancel

    def _run_action(self, action: Callable[[], Any], name: str | None = None) -> Any:
        try:
            result = action()
        except Exception:
            _LOGGER.exception("Error in timed action %s", name or action)
            return None
        if isawaitable(result):
            return self.async_create_task(_await(result), name)
        return result

    # Lifecycle ----------------------------------------------------------------------------

    def async_on_stop(
        self, callback: StopCallback, stage: StopStage = StopStage.INTEGRATIONS
    ) -> Callable[[], None]:
        """Run `callback` when the hub stops, in stage order; returns a remover."""
        self._stop_order += 1
        entry = (stage, self._stop_order, callback)
        self._stop_callbacks.append(entry)
        return partial(self._remove_stop_callback, entry)

    def _remove_stop_callback(self, entry: tuple[StopStage, int, StopCallback]) -> None:
        if entry in self._stop_callbacks:
            self._stop_callbacks.remove(entry)

    def async_at_started(self, action: Callable[[], None]) -> Callable[[], None]:
        """Run `action` once every integration is set up and the hub runs (now if it does).

        For work that may use what other integrations add, such as a template calling a
        helper another integration registers. Returns a function that cancels it.
        """
        if self.state is HubState.RUNNING:
            action()
            return lambda: None
        return self.bus.async_listen_once(EVENT_HUB_STARTED, lambda _event: action())

    async def async_start(self) -> None:
        """Move to RUNNING: fire start events so integrations begin their work."""
        self.state = HubState.STARTING
        self.bus.async_fire(EVENT_HUB_START)
        await self.async_block_till_done()
        self.state = HubState.RUNNING
        self.bus.async_fire(EVENT_HUB_STARTED)

    async def async_stop(self, exit_code: int = 0) -> None:
        """Stop in order: HTTP, integrations, recorder flush, storage; then cancel the rest."""
        if self.state in (HubState.STOPPING, HubState.STOPPED):
            await self._stopped.wait()
            return
        self.exit_code = exit_code
        self.state = HubState.STOPPING
        self.bus.async_fire(EVENT_HUB_STOP)
        # One at a time in stage order; a step may add another (a last save), which then runs.
        while self._stop_callbacks:
            entry = min(self._stop_callbacks, key=lambda item: item[:2])
            self._stop_callbacks.remove(entry)
            stage, _order, callback = entry
            try:
                result = callback()
                if isawaitable(result):
                    await asyncio.wait_for(_await(result), STOP_STEP_TIMEOUT)
            except TimeoutError:
                _LOGGER.error("Stop step %s (%s) timed out", callback, stage.name)
            except Exception:
                _LOGGER.exception("Error in stop step %s (%s)", callback, stage.name)
        for cancel_timer in list(self._timers.values()):
            cancel_timer()
        self._timers.clear()
        for task in list(self._background):
            task.cancel()
        current = asyncio.current_task()
        pending = [
            task for task in (*self._tasks, *self._background)
            if not task.done() and task is not current
        ]
        if pending:
            _done, still = await asyncio.wait(pending, timeout=STOP_STEP_TIMEOUT)
            for task in still:
                task.cancel()
        self.bus.async_fire(EVENT_HUB_CLOSE)
        await self.loop.run_in_executor(None, partial(self.executor.shutdown, wait=True))
        self.state = HubState.STOPPED
        self._stopped.set()

    async def async_wait_stopped(self) -> int:
        """Wait until the hub has stopped; return its exit code."""
        await self._stopped.wait()
        return self.exit_code


async def _await(awaitable: Awaitable[_T]) -> _T:
    return await awaitable
