"""Actions compiled once into step objects: no schema work and no lookups by name per run.

Each step records itself in the run's trace (path, result, changed variables, error). An error
stops the run unless the action has `continue_on_error` and the error is one the hub raised on
purpose at run time (a service that failed); mistakes in the automation (a template error, a
missing service, data a service refuses) and unexpected exceptions always stop it. Nested
sequences (`choose`, `if`, `repeat`, `parallel`, `sequence`) share the run's variables as
Home Assistant scopes them (runtime.Scope): what a `variables` action sets is seen after it,
also outside the block it is in.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

from plantpulse.automations.action_schema import action_kind
from plantpulse.automations.conditions import Check, compile_condition, compile_conditions
from plantpulse.automations.const import CONF_CONTINUE_ON_ERROR, CONF_ENABLED, CONF_TIMEOUT
from plantpulse.automations.runtime import (
    Pending,
    Run,
    RunFailure,
    Scope,
    Step,
    StopRun,
    Variables,
    run_steps,
)
from plantpulse.automations.template_watch import TemplateWatcher
from plantpulse.automations.trace import TraceStep
from plantpulse.automations.triggers import TriggerInfo, async_attach_triggers
from plantpulse.automations.triggers.template import truthy
from plantpulse.automations.validation import render_period
from plantpulse.core.exceptions import (
    InvalidEntityIdError,
    PlantPulseError,
    ServiceNotFound,
    ServiceValidationError,
)
from plantpulse.core.template import RenderResult, Template, TemplateError, render_complex

if TYPE_CHECKING:
    from plantpulse.core.events import Context
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

# Errors in the automation itself, which `continue_on_error` does not skip (as in Home
# Assistant): a template that fails, a service that does not exist or refuses the data.
_MISTAKES: Final = (TemplateError, ServiceNotFound, ServiceValidationError, InvalidEntityIdError)
# A loop whose iterations never wait lets the event loop run after this many of them.
_ITERATIONS_PER_YIELD: Final = 100


def _has_template(value: Any) -> bool:
    if isinstance(value, Template):
        return not value.is_static
    if isinstance(value, Mapping):
        return any(_has_template(key) or _has_template(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_template(item) for item in value)
    return False


def _plain(value: Any) -> Any:
    """Static validated data with its Template wrappers turned back into their text."""
    if isinstance(value, Template):
        return value.source
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def compile_data(value: Any) -> Callable[[Hub, Mapping[str, Any]], Any]:
    """A renderer for nested data: templates rendered per run, static data built once."""
    if not _has_template(value):
        constant = _plain(value)
        return lambda _hub, _variables: constant
    return lambda hub, variables: render_complex(value, hub, variables)


class StepBase(ABC):
    """Trace recording and error handling around an action's `execute`."""

    __slots__ = ("continue_on_error", "path")

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        self.path = path
        self.continue_on_error = bool(config.get(CONF_CONTINUE_ON_ERROR))

    @abstractmethod
    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        """Do the action's work; None when done, else a coroutine that finishes it."""

    def __call__(self, run: Run, variables: Variables) -> Pending:
        step = run.trace.add_step(self.path)
        try:
            pending = self.execute(run, variables, step)
        except (StopRun, RunFailure):
            raise
        except Exception as err:
            self._failed(run, step, err)
            return None
        if pending is None:
            return None
        return self._finish(run, step, pending)

    async def _finish(self, run: Run, step: TraceStep,
                      pending: Coroutine[Any, Any, None]) -> None:
        try:
            await pending
        except (StopRun, RunFailure, asyncio.CancelledError):
            raise
        except Exception as err:
            self._failed(run, step, err)

    def _failed(self, run: Run, step: TraceStep, err: Exception) -> None:
        step.error = str(err) or type(err).__name__
        if isinstance(err, PlantPulseError):
            if self.continue_on_error and not isinstance(err, _MISTAKES):
                _LOGGER.info("%s: %s failed and continues: %s", run.name, self.path, err)
                return
            _LOGGER.error("%s: error in %s: %s", run.name, self.path, err)
        else:
            _LOGGER.error("%s: unexpected error in %s", run.name, self.path, exc_info=err)
        raise RunFailure(err) from err


class ServiceStep(StepBase):
    """`action: domain.service` with data, target and an optional response variable."""

    __slots__ = ("_data", "_response_variable", "_service")

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._service: str | Template = config.get("action") or config["service"]
        data: dict[str, Any] = {**(config.get("data") or {}),
                                **(config.get("data_template") or {})}
        for key, value in (config.get("target") or {}).items():
            data[key] = value
        if "entity_id" in config:
            data["entity_id"] = config["entity_id"]
        self._data = compile_data(data)
        self._response_variable: str | None = config.get("response_variable")

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        hub = run.hub
        name = self._service
        if isinstance(name, Template):
            name = str(name.async_render(hub, variables, parse_result=False)).strip()
        domain, _, service = name.partition(".")
        if not domain or not service:
            raise TemplateError(f"the service template gave {name!r}, not 'domain.service'")
        data = self._data(hub, variables)
        step.result = {"params": {"domain": domain, "service": service, "service_data": data}}
        return self._call(run, variables, step, domain, service, data)

    async def _call(self, run: Run, variables: Variables, step: TraceStep, domain: str,
                    service: str, data: dict[str, Any]) -> None:
        wanted = self._response_variable
        response = await run.hub.services.async_call(
            domain, service, data, context=run.context, return_response=wanted is not None
        )
        if wanted is not None:
            variables[wanted] = response
            step.variables = {wanted: response}


class DelayStep(StepBase):
    """`delay:` a period (or a template giving one) of the hub's clock."""

    __slots__ = ("_period",)

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._period = config["delay"]

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        seconds = render_period(run.hub, self._period, variables).total_seconds()
        step.result = {"delay": seconds, "done": True}
        if seconds <= 0:
            return None
        return run.hub.clock.sleep(seconds)


class EventStep(StepBase):
    """`event:` fire an event with (templated) `event_data`."""

    __slots__ = ("_data", "_event_type")

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._event_type: str = config["event"]
        self._data = compile_data({**(config.get("event_data") or {}),
                                   **(config.get("event_data_template") or {})})

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        data = self._data(run.hub, variables)
        run.hub.bus.async_fire(self._event_type, data, context=run.context)
        step.result = {"event": self._event_type, "event_data": data}
        return None


class ConditionStep(StepBase):
    """A condition as an action: the run stops quietly when it is false."""

    __slots__ = ("_check",)

    def __init__(self, hub: Hub, config: dict[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._check = compile_condition(hub, {**config, CONF_ENABLED: True}, path)

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        result = self._check.evaluate(variables, run.trace)  # type: ignore[attr-defined]
        step.result = {"result": result}
        if not result:
            raise StopRun(f"condition {self.path} is false", "aborted")
        return None


class VariablesStep(StepBase):
    """`variables:` set variables in the current scope, each seeing the ones before it."""

    __slots__ = ("_values",)

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._values = [(name, compile_data(value))
                        for name, value in config["variables"].items()]

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        changed = {}
        for name, render in self._values:
            variables[name] = changed[name] = render(run.hub, variables)
        step.variables = changed
        return None


class StopStep(StepBase):
    """`stop:` end the run, as an error with `error: true`, with an optional response."""

    __slots__ = ("_error", "_message", "_response_variable")

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._message: str = config["stop"]
        self._error: bool = config["error"]
        self._response_variable: str | None = config.get("response_variable")

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        step.result = {"stop": self._message, "error": self._error}
        if self._response_variable is not None:
            run.response = variables.get(self._response_variable)
        raise StopRun(self._message, "error" if self._error else "finished", self._error)


class SequenceStep(StepBase):
    """`sequence:` a nested list of actions in its own scope."""

    __slots__ = ("_steps",)

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._steps = compile_steps(hub, config["sequence"], f"{path}/sequence")

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        return run_steps(run, self._steps, variables)


def _all(checks: list[Check], variables: Mapping[str, Any], run: Run) -> bool:
    return all(check(variables, run.trace) for check in checks)


class ChooseStep(StepBase):
    """`choose:` the first option whose conditions all hold, else `default`."""

    __slots__ = ("_default", "_options")

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._options = [
            (compile_conditions(hub, option["conditions"], f"{path}/choose/{index}/conditions"),
             compile_steps(hub, option["sequence"], f"{path}/choose/{index}/sequence"))
            for index, option in enumerate(config["choose"])
        ]
        self._default = compile_steps(hub, config.get("default") or [], f"{path}/default")

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        for index, (checks, steps) in enumerate(self._options):
            if _all(checks, variables, run):
                step.result = {"choice": index}
                return run_steps(run, steps, variables)
        step.result = {"choice": "default"}
        return run_steps(run, self._default, variables)


class IfStep(StepBase):
    """`if:` conditions, `then:` actions, `else:` actions."""

    __slots__ = ("_checks", "_else", "_then")

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._checks = compile_conditions(hub, config["if"], f"{path}/if/condition")
        self._then = compile_steps(hub, config["then"], f"{path}/then")
        self._else = compile_steps(hub, config.get("else") or [], f"{path}/else")

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        chosen = _all(self._checks, variables, run)
        step.result = {"choice": "then" if chosen else "else"}
        return run_steps(run, self._then if chosen else self._else, variables)


class RepeatStep(StepBase):
    """`repeat:` with `count`, `while`, `until` or `for_each`; `repeat` holds index, first,
    last and item."""

    __slots__ = ("_count", "_for_each", "_steps", "_until", "_while")

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        repeat = config["repeat"]
        self._count = repeat.get("count")
        self._for_each = repeat.get("for_each")
        self._while = compile_conditions(hub, repeat.get("while") or [], f"{path}/repeat/while")
        self._until = compile_conditions(hub, repeat.get("until") or [], f"{path}/repeat/until")
        self._steps = compile_steps(hub, repeat["sequence"], f"{path}/repeat/sequence")
        if "until" in repeat:
            self._count = None

    def _items(self, run: Run, variables: Mapping[str, Any]) -> list[Any] | None:
        if self._for_each is not None:
            items = self._for_each
            if isinstance(items, Template):
                items = items.async_render(run.hub, variables)
            if not isinstance(items, list):
                raise TemplateError(f"for_each needs a list, got {items!r}")
            return render_complex(items, run.hub, variables)  # type: ignore[no-any-return]
        if self._count is not None:
            count = self._count
            if isinstance(count, Template):
                try:
                    count = int(count.async_render(run.hub, variables))
                except (TypeError, ValueError) as err:
                    raise TemplateError(f"repeat count is not a number: {err}") from None
            return list(range(1, count + 1))
        return None

    def _scopes(self, run: Run, variables: Variables) -> Iterator[Variables]:
        """One variable scope per iteration; `while` checked before, `until` after each."""
        items = self._items(run, variables)
        index = 0
        while True:
            index += 1
            repeat: dict[str, Any] = {"first": index == 1, "index": index}
            if items is not None:
                if index > len(items):
                    return
                repeat["last"] = index == len(items)
                if self._for_each is not None:
                    repeat["item"] = items[index - 1]
            scope = Scope({"repeat": repeat}, variables)
            if self._while and not _all(self._while, scope, run):
                return
            yield scope
            if self._until and _all(self._until, scope, run):
                return

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        scopes = self._scopes(run, variables)
        for done, scope in enumerate(scopes, start=1):
            pending = run_steps(run, self._steps, scope)
            if pending is not None or done % _ITERATIONS_PER_YIELD == 0:
                return self._rest(run, scopes, pending)
        return None

    async def _rest(self, run: Run, scopes: Iterator[Variables],
                    pending: Pending) -> None:
        if pending is not None:
            await pending
        else:
            await asyncio.sleep(0)
        for done, scope in enumerate(scopes, start=1):
            pending = run_steps(run, self._steps, scope)
            if pending is not None:
                await pending
            elif done % _ITERATIONS_PER_YIELD == 0:
                await asyncio.sleep(0)


class ParallelStep(StepBase):
    """`parallel:` branches that run at the same time, each in its own scope."""

    __slots__ = ("_branches",)

    def __init__(self, hub: Hub, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._branches = [compile_steps(hub, branch, f"{path}/parallel/{index}/sequence")
                          for index, branch in enumerate(config["parallel"])]

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        waiting: list[Coroutine[Any, Any, None]] = []
        try:
            for branch in self._branches:
                pending = run_steps(run, branch, Scope({}, variables, protect="wait"))
                if pending is not None:
                    waiting.append(pending)
        except BaseException:
            for coroutine in waiting:
                coroutine.close()
            raise
        return self._gather(waiting) if waiting else None

    @staticmethod
    async def _gather(waiting: list[Coroutine[Any, Any, None]]) -> None:
        results = await asyncio.gather(*waiting, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


def _timeout_of(run: Run, config: Mapping[str, Any], variables: Mapping[str, Any]
                ) -> float | None:
    if CONF_TIMEOUT not in config:
        return None
    return render_period(run.hub, config[CONF_TIMEOUT], variables).total_seconds()


class _Waiter:
    """A future the wait resolves, and a timeout on the hub's clock."""

    def __init__(self, run: Run, timeout: float | None) -> None:
        self.future: asyncio.Future[Any] = run.hub.loop.create_future()
        self.started = run.hub.clock.time()
        self.timeout = timeout
        self._clock = run.hub.clock
        self._cancel = (run.hub.async_call_later(timeout, self.timed_out)
                        if timeout is not None else None)

    def done(self, value: Any) -> None:
        if not self.future.done():
            self.future.set_result(value)

    def timed_out(self) -> None:
        self._cancel = None
        self.done(_TIMED_OUT)

    def remaining(self) -> float | None:
        if self.timeout is None:
            return None
        return max(0.0, self.timeout - (self._clock.time() - self.started))

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel()
            self._cancel = None


_TIMED_OUT: Final = object()


class WaitTemplateStep(StepBase):
    """`wait_template:` wait until a template is true (re-rendered as what it reads changes)."""

    __slots__ = ("_config", "_template")

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._config = config
        self._template: Template = config["wait_template"]

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        timeout = _timeout_of(run, self._config, variables)
        waiter = _Waiter(run, timeout)

        def rendered(result: RenderResult, _context: Context | None) -> None:
            if result.error is None and truthy(result.value):
                waiter.done(True)

        watcher = TemplateWatcher(run.hub, self._template, variables, rendered)
        first = watcher.start()
        if first.error is not None:
            watcher.remove()
            waiter.cancel()
            raise first.error
        if truthy(first.value):
            watcher.remove()
            waiter.cancel()
            self._set_wait(variables, step, True, timeout)
            return None
        if timeout is not None and timeout <= 0:
            watcher.remove()
            self._timed_out(variables, step, 0.0)
            return None
        return self._wait(variables, step, waiter, watcher)

    async def _wait(self, variables: Variables, step: TraceStep, waiter: _Waiter,
                    watcher: TemplateWatcher) -> None:
        try:
            outcome = await waiter.future
        finally:
            watcher.remove()
            waiter.cancel()
        if outcome is _TIMED_OUT:
            self._timed_out(variables, step, 0.0)
        else:
            self._set_wait(variables, step, True, waiter.remaining())

    def _set_wait(self, variables: Variables, step: TraceStep, completed: bool,
                  remaining: float | None) -> None:
        variables["wait"] = {"completed": completed, "remaining": remaining}
        step.variables = {"wait": variables["wait"]}

    def _timed_out(self, variables: Variables, step: TraceStep, remaining: float) -> None:
        self._set_wait(variables, step, False, remaining)
        step.result = {"timeout": True}
        if not self._config["continue_on_timeout"]:
            raise StopRun(f"{self.path} timed out", "aborted")


class WaitForTriggerStep(StepBase):
    """`wait_for_trigger:` wait for any of some triggers; `wait.trigger` says which fired."""

    __slots__ = ("_config", "_triggers")

    def __init__(self, config: Mapping[str, Any], path: str) -> None:
        super().__init__(config, path)
        self._config = config
        self._triggers = config["wait_for_trigger"]

    def execute(self, run: Run, variables: Variables, step: TraceStep) -> Pending:
        timeout = _timeout_of(run, self._config, variables)
        if timeout is not None and timeout <= 0:
            self._set_wait(variables, step, None, 0.0)
            self._check_timeout(step, None)
            return None
        waiter = _Waiter(run, timeout)

        def fired(trigger_vars: dict[str, Any], _context: Context | None) -> None:
            waiter.done(trigger_vars)

        remove = async_attach_triggers(
            run.hub, self._triggers, fired,
            TriggerInfo("wait_for_trigger", f"{run.name} {self.path}", variables=variables),
        )
        return self._wait(variables, step, waiter, remove)

    async def _wait(self, variables: Variables, step: TraceStep, waiter: _Waiter,
                    remove: Callable[[], None]) -> None:
        try:
            outcome = await waiter.future
        finally:
            remove()
            waiter.cancel()
        trigger = None if outcome is _TIMED_OUT else outcome
        self._set_wait(variables, step, trigger, waiter.remaining())
        self._check_timeout(step, trigger)

    @staticmethod
    def _set_wait(variables: Variables, step: TraceStep, trigger: Any,
                  remaining: float | None) -> None:
        variables["wait"] = {"trigger": trigger, "remaining": remaining}
        step.variables = {"wait": variables["wait"]}

    def _check_timeout(self, step: TraceStep, trigger: Any) -> None:
        if trigger is None:
            step.result = {"timeout": True}
            if not self._config["continue_on_timeout"]:
                raise StopRun(f"{self.path} timed out", "aborted")


def compile_step(hub: Hub, config: dict[str, Any], path: str) -> Step:
    """One validated action as a step."""
    kind = action_kind(config)
    if kind == "service":
        return ServiceStep(config, path)
    if kind in _SIMPLE:
        return _SIMPLE[kind](config, path)  # type: ignore[no-any-return]
    return _NESTED[kind](hub, config, path)  # type: ignore[no-any-return]


def compile_steps(hub: Hub, configs: list[dict[str, Any]], prefix: str) -> list[Step]:
    """A validated action list as steps with trace paths `<prefix>/0`...; disabled ones left
    out (the others keep their paths)."""
    return [compile_step(hub, config, f"{prefix}/{index}")
            for index, config in enumerate(configs) if config.get(CONF_ENABLED, True)]


_SIMPLE: Final[dict[str, Callable[..., Step]]] = {
    "delay": DelayStep, "event": EventStep, "variables": VariablesStep, "stop": StopStep,
    "wait_template": WaitTemplateStep, "wait_for_trigger": WaitForTriggerStep,
}
_NESTED: Final[dict[str, Callable[..., Step]]] = {
    "condition": ConditionStep, "sequence": SequenceStep, "choose": ChooseStep, "if": IfStep,
    "repeat": RepeatStep, "parallel": ParallelStep,
}
