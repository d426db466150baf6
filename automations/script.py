"""A compiled action sequence and its runs: run modes, stopping, and how each run ended.

Modes (Home Assistant's): `single` drops a new run while one runs (logged at the level of
`max_exceeded`, default warning); `restart` stops the running one and starts anew; `queued`
runs them one after another; `parallel` runs them side by side. `queued` and `parallel` take
at most `max` runs at a time (waiting ones included); more are dropped and logged.

A run does its steps synchronously until one must wait; only then does it become a task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from plantpulse.automations.actions import compile_steps
from plantpulse.automations.const import ATTR_LAST_TRIGGERED, LOG_LEVELS, RunMode
from plantpulse.automations.runtime import (
    Pending,
    Run,
    RunFailure,
    StopRun,
    close_unstarted,
    run_steps,
)

if TYPE_CHECKING:
    from datetime import datetime

    from plantpulse.automations.trace import Trace
    from plantpulse.core.events import Context
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


class ActiveRun:
    """A run in progress (or just ended): its task if it had to wait, and how it ended."""

    __slots__ = ("_done", "ended", "error", "run", "task")

    def __init__(self, run: Run) -> None:
        self.run = run
        self.task: asyncio.Task[None] | None = None
        self.ended = False
        self.error: str | None = None
        self._done: asyncio.Future[None] | None = None

    def cancel(self) -> None:
        """Stop the run (it ends as `cancelled`)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()

    async def async_wait(self) -> None:
        """Return when the run has ended."""
        if self.ended:
            return
        if self._done is None:
            self._done = self.run.hub.loop.create_future()
        await asyncio.shield(self._done)

    def mark_ended(self) -> None:
        """Wake whoever waits for the run."""
        self.ended = True
        if self._done is not None and not self._done.done():
            self._done.set_result(None)


class Script:
    """Runs a sequence of actions under a run mode."""

    def __init__(
        self,
        hub: Hub,
        name: str,
        steps_config: list[dict[str, Any]],
        prefix: str,
        mode: RunMode = RunMode.SINGLE,
        max_runs: int = 10,
        max_exceeded: str = "warning",
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.hub = hub
        self.name = name
        self.mode = mode
        self.max_runs = max_runs
        self._log_level = LOG_LEVELS[max_exceeded]
        self._on_change = on_change
        self.steps = compile_steps(hub, steps_config, prefix)
        self._runs: list[ActiveRun] = []

    def run_attributes(self, last_triggered: datetime | None) -> dict[str, Any]:
        """The state attributes automation and script entities show for their runs."""
        attributes: dict[str, Any] = {
            ATTR_LAST_TRIGGERED: last_triggered.isoformat() if last_triggered else None,
            "mode": self.mode.value,
            "current": len(self._runs),
        }
        if self.mode in (RunMode.QUEUED, RunMode.PARALLEL):
            attributes["max"] = self.max_runs
        return attributes

    @property
    def runs(self) -> int:
        """How many runs are in progress (queued ones included)."""
        return len(self._runs)

    def async_run(
        self, variables: Mapping[str, Any], context: Context, trace: Trace
    ) -> ActiveRun | None:
        """Start a run with these variables; None when the run mode drops it.

        Returns once the run has ended or has to wait; `ActiveRun.async_wait()` waits for the
        end.
        """
        runs = self._runs
        if runs:
            if self.mode is RunMode.SINGLE:
                self._dropped(trace, "failed_single", "already running")
                return None
            if self.mode is RunMode.RESTART:
                for active in list(runs):
                    active.cancel()
            elif len(runs) >= self.max_runs:
                self._dropped(trace, "failed_max_runs", f"already running {len(runs)} times")
                return None
        active = ActiveRun(Run(self.hub, self.name, context, trace))
        runs.append(active)
        scope = dict(variables)
        if self.mode is RunMode.QUEUED and len(runs) > 1:
            self._become_task(active, self._async_queued(active, runs[-2], scope))
            return active
        try:
            pending = run_steps(active.run, self.steps, scope)
        except Exception as err:
            self._end(active, err)
            return active
        if pending is None:
            self._end(active, None)
        else:
            self._become_task(active, self._async_finish(active, pending), pending)
        return active

    def _dropped(self, trace: Trace, execution: str, reason: str) -> None:
        trace.finished(execution)
        if self._log_level is not None:
            _LOGGER.log(self._log_level, "%s: %s; this run is dropped (mode %s)", self.name,
                        reason, self.mode)

    def _become_task(self, active: ActiveRun, coroutine: Pending,
                     pending: Pending = None) -> None:
        assert coroutine is not None
        # A waiting run (delay, wait_for_trigger) may last hours of plant time: a background
        # task, which `async_block_till_done` does not wait for and stop cancels.
        task = self.hub.async_create_background_task(coroutine, f"run of {self.name}")
        active.task = task

        def done(_task: asyncio.Task[None]) -> None:
            # Cancelled before it started, the task never awaited `pending`.
            close_unstarted(pending)
            self._end(active, asyncio.CancelledError())

        task.add_done_callback(done)
        if self._on_change is not None:
            self._on_change()

    async def _async_finish(self, active: ActiveRun, pending: Pending) -> None:
        try:
            await pending  # type: ignore[misc]
        except (Exception, asyncio.CancelledError) as err:
            self._end(active, err)
        else:
            self._end(active, None)

    async def _async_queued(self, active: ActiveRun, previous: ActiveRun,
                            scope: dict[str, Any]) -> None:
        try:
            await previous.async_wait()
            pending = run_steps(active.run, self.steps, scope)
            if pending is not None:
                await pending
        except (Exception, asyncio.CancelledError) as err:
            self._end(active, err)
        else:
            self._end(active, None)

    def _end(self, active: ActiveRun, error: BaseException | None) -> None:
        if active.ended:
            return
        self._runs.remove(active)
        trace = active.run.trace
        if error is None:
            trace.finished("finished")
        elif isinstance(error, StopRun):
            if error.error:
                active.error = error.message
            trace.finished(error.execution, error.message if error.error else None)
        elif isinstance(error, RunFailure):
            active.error = str(error.error) or type(error.error).__name__
            trace.finished("error", active.error)
        elif isinstance(error, asyncio.CancelledError):
            trace.finished("cancelled")
        else:
            _LOGGER.error("%s: run failed", self.name, exc_info=error)
            active.error = str(error) or type(error).__name__
            trace.finished("error", active.error)
        active.mark_ended()
        if active.task is not None and self._on_change is not None:
            self._on_change()

    def active_runs(self) -> list[ActiveRun]:
        """The runs in progress, oldest first."""
        return list(self._runs)

    async def async_stop(self, runs: Iterable[ActiveRun] | None = None) -> None:
        """Stop every run in progress (or just `runs`) and wait until they have ended."""
        stopping = self.active_runs() if runs is None else [
            active for active in runs if active in self._runs]
        tasks = [active.task for active in stopping if active.task is not None]
        for active in stopping:
            active.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
