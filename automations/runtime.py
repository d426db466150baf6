"""What a run is while it runs: its context, trace and response, and how steps are chained.

Steps run synchronously as far as they can: a step returns None when it is done, or a
coroutine when it must wait (a service call, a delay, a wait). `run_steps` goes through a
sequence until a step returns a coroutine and then hands back one coroutine for the rest, so
a run whose first actions need no waiting (an event, a variable, a condition) does them before
the state change that triggered it has finished being delivered, without a task.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Coroutine, MutableMapping, Sequence
from inspect import CORO_CREATED, getcoroutinestate, iscoroutine
from typing import TYPE_CHECKING, Any, Protocol

from plantpulse.core.events import Context
from plantpulse.core.exceptions import PlantPulseError

if TYPE_CHECKING:
    from plantpulse.automations.trace import Trace
    from plantpulse.core.hub import Hub

Pending = Coroutine[Any, Any, None] | None
# A run's variables: its top-level dict, or a Scope of a repeat pass or a parallel branch.
Variables = MutableMapping[str, Any]


class Scope(ChainMap[str, Any]):
    """Variables of a nested scope, as Home Assistant scopes them.

    Reads see every enclosing scope. A write goes to the nearest scope that has the name,
    else to the run's top-level variables: a `variables` action inside `if`, `choose`,
    `repeat` or `parallel` changes what the steps after it see. Only what a scope defines
    itself stays in it: `repeat` in a repeat pass, and (`protect`) `wait` in a parallel branch,
    so two branches waiting at once keep their own.
    """

    def __init__(self, local: dict[str, Any], outer: Variables, protect: str | None = None
                 ) -> None:
        super().__init__(local, outer)
        self._protect = protect

    def __setitem__(self, key: str, value: Any) -> None:
        local, outer = self.maps
        if key in local or key == self._protect:
            local[key] = value
        else:
            outer[key] = value


class RunContext(Context):
    """A run's context: its parent id is the triggering context's, read only when needed.

    As in Home Assistant, an automation's run acts as the system (no user), even when a
    user's change or call triggered it; the parent id leads back to that user.

    Making a context id costs a few microseconds; most runs are never looked up by it.
    """

    __slots__ = ("_parent",)

    def __init__(self, parent: Context | None, user_id: str | None = None) -> None:
        self._id = None
        self.user_id = user_id
        self._parent = parent

    @property  # type: ignore[override]
    def parent_id(self) -> str | None:
        """The id of the context that triggered the run."""
        return self._parent.id if self._parent is not None else None

    @parent_id.setter
    def parent_id(self, value: str | None) -> None:
        self._parent = Context(id=value) if value is not None else None


class StopRun(Exception):
    """Ends a run early: a `stop` action, a failed condition action, a wait that timed out."""

    def __init__(self, message: str, execution: str, error: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.execution = execution
        self.error = error


class RunFailure(Exception):
    """A step failed; its error is already recorded on that step. Ends the run."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class ScriptError(PlantPulseError):
    """A script run by a service call failed; the message says which step and why."""


class Step(Protocol):
    """A compiled action: run it with the run and the variables of its scope."""

    def __call__(self, run: Run, variables: Variables) -> Pending:
        """Do the action; None when done, else a coroutine that finishes it."""


class Run:
    """One run of a script or automation: what its steps share."""

    __slots__ = ("context", "hub", "name", "response", "trace")

    def __init__(self, hub: Hub, name: str, context: Context, trace: Trace) -> None:
        self.hub = hub
        self.name = name
        self.context = context
        self.trace = trace
        self.response: Any = None


def run_steps(run: Run, steps: Sequence[Step], variables: Variables) -> Pending:
    """Run `steps` in order; None when all are done, else a coroutine for the rest."""
    for index, step in enumerate(steps):
        pending = step(run, variables)
        if pending is not None:
            return _finish_steps(run, steps, variables, index + 1, pending)
    return None


async def _finish_steps(
    run: Run, steps: Sequence[Step], variables: Variables, start: int,
    pending: Coroutine[Any, Any, None],
) -> None:
    await pending
    for index in range(start, len(steps)):
        pending_next = steps[index](run, variables)
        if pending_next is not None:
            await pending_next


def close_unstarted(pending: Pending) -> None:
    """Close a step coroutine that never ran (its run was stopped before its task started)
    and the coroutines it was handed, so none is left behind as "never awaited"."""
    stack: list[Any] = [pending]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif iscoroutine(item) and getcoroutinestate(item) == CORO_CREATED:
            stack.extend(item.cr_frame.f_locals.values())
            item.close()
