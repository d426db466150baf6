"""Traces: what each run of an automation or script did, step by step, for the API and the UI.

A run records its trigger, every step's path (`trigger/0`, `condition/1`, `action/2/then/0`),
time, result, changed variables and error, and how it ended. Recording is cheap: plain slotted
objects, turned into JSON only when somebody asks. The last `stored_traces` runs of each item
are kept in a ring buffer, saved to `.storage/trace.saved_traces` when the hub stops and
loaded again at the next start.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from plantpulse.core.dt import from_timestamp
from plantpulse.core.events import Context, new_ulid
from plantpulse.core.exceptions import StorageError
from plantpulse.core.hub import StopStage
from plantpulse.core.jsonenc import json_dumps
from plantpulse.core.storage import Store

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

STORAGE_KEY: Final = "trace.saved_traces"
STORAGE_VERSION: Final = 1
_DATA_KEY: Final = "automations.traces"


def _iso(timestamp: float | None) -> str | None:
    return None if timestamp is None else from_timestamp(timestamp).isoformat()


class TraceStep:
    """One step of a run: where, when, what came out, which variables it set, what failed."""

    __slots__ = ("error", "path", "result", "timestamp", "variables")

    def __init__(self, path: str, timestamp: float) -> None:
        self.path = path
        self.timestamp = timestamp
        self.result: Any = None
        self.error: str | None = None
        self.variables: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        """Home Assistant's trace step shape."""
        data: dict[str, Any] = {"path": self.path, "timestamp": _iso(self.timestamp)}
        if self.variables:
            data["changed_variables"] = dict(self.variables)
        if self.result is not None:
            data["result"] = self.result
        if self.error is not None:
            data["error"] = self.error
        return data


class Trace:
    """The record of one run, filled in while it runs."""

    __slots__ = ("_clock", "_run_id", "blueprint_inputs", "config", "context", "domain",
                 "error", "execution", "finish", "item_id", "start", "steps", "trigger")

    def __init__(
        self,
        domain: str,
        item_id: str,
        clock: Callable[[], float],
        context: Context,
        trigger: str | None,
        config: Mapping[str, Any] | None = None,
        blueprint_inputs: Mapping[str, Any] | None = None,
    ) -> None:
        self.domain = domain
        self.item_id = item_id
        self._clock = clock
        self._run_id: str | None = None
        self.context = context
        self.trigger = trigger
        self.config = config
        self.blueprint_inputs = blueprint_inputs
        self.start = clock()
        self.finish: float | None = None
        self.execution: str | None = None
        self.error: str | None = None
        self.steps: list[TraceStep] = []

    @property
    def run_id(self) -> str:
        """A unique id, sortable by start time (made when first asked for)."""
        if self._run_id is None:
            self._run_id = new_ulid(self.start)
        return self._run_id

    def add_step(self, path: str) -> TraceStep:
        """Start recording a step at `path`."""
        step = TraceStep(path, self._clock())
        self.steps.append(step)
        return step

    def finished(self, execution: str, error: str | None = None) -> None:
        """Mark the run as ended: `finished`, `failed_conditions`, `aborted`, `error`..."""
        if self.finish is None:
            self.finish = self._clock()
            self.execution = execution
            self.error = error

    def summary(self) -> dict[str, Any]:
        """The `trace/list` entry."""
        data: dict[str, Any] = {
            "domain": self.domain,
            "item_id": self.item_id,
            "run_id": self.run_id,
            "last_step": self.steps[-1].path if self.steps else None,
            "state": "running" if self.finish is None else "stopped",
            "script_execution": self.execution,
            "timestamp": {"start": _iso(self.start), "finish": _iso(self.finish)},
            "trigger": self.trigger,
        }
        if self.error is not None:
            data["error"] = self.error
        return data

    def as_dict(self) -> dict[str, Any]:
        """The `trace/get` answer: the summary plus every step by path, config and context."""
        by_path: dict[str, list[dict[str, Any]]] = {}
        for step in self.steps:
            by_path.setdefault(step.path, []).append(step.as_dict())
        return {
            **self.summary(),
            "trace": by_path,
            "config": self.config,
            "blueprint_inputs": self.blueprint_inputs,
            "context": self.context.as_dict(),
        }


class RestoredTrace:
    """A trace saved by an earlier run of the hub, kept as the JSON it was saved as."""

    __slots__ = ("data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @property
    def run_id(self) -> str:
        """The run's id."""
        return str(self.data.get("run_id"))

    def summary(self) -> dict[str, Any]:
        """The `trace/list` entry."""
        return {key: value for key, value in self.data.items()
                if key not in ("trace", "config", "blueprint_inputs", "context")}

    def as_dict(self) -> dict[str, Any]:
        """The trace as saved."""
        return self.data


AnyTrace = Trace | RestoredTrace


def _plain(data: Any) -> Any:
    """JSON-safe copy of a trace: hub objects as their dicts, anything odd as text."""
    try:
        return json.loads(json_dumps(data))
    except (TypeError, ValueError):
        return json.loads(json.dumps(data, default=str))


class TraceStore:
    """The last runs of every automation and script, by (domain, item id)."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._traces: dict[tuple[str, str], deque[AnyTrace]] = {}
        self._store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
        self._restored: dict[str, list[dict[str, Any]]] | None = None

    @staticmethod
    def of(hub: Hub) -> TraceStore | None:
        """The hub's trace store, if automations or scripts created it."""
        return hub.data.get(_DATA_KEY)

    @classmethod
    async def async_of(cls, hub: Hub) -> TraceStore:
        """The hub's trace store, loading saved traces and hooking the save at stop once."""
        store: TraceStore | None = hub.data.get(_DATA_KEY)
        if store is None:
            store = hub.data[_DATA_KEY] = cls(hub)
            hub.async_on_stop(store.async_save, StopStage.STORAGE)
            try:
                store._restored = await store._store.async_load() or {}
            except StorageError as err:
                _LOGGER.error("Saved traces not loaded: %s", err)
                store._restored = {}
        return store

    def buffer(self, domain: str, item_id: str, stored: int) -> deque[AnyTrace]:
        """The ring buffer of one item, holding its restored traces on first use."""
        key = (domain, item_id)
        current = self._traces.get(key)
        if current is not None and current.maxlen == stored:
            return current
        ring: deque[AnyTrace] = deque(current or (), maxlen=stored)
        if current is None and self._restored:
            for data in self._restored.pop(f"{domain}.{item_id}", ()):
                ring.append(RestoredTrace(data))
        self._traces[key] = ring
        return ring

    def forget(self, domain: str, item_id: str) -> None:
        """Drop an item's traces (it was removed from the configuration)."""
        self._traces.pop((domain, item_id), None)

    def list(self, domain: str, item_id: str | None = None) -> list[dict[str, Any]]:
        """Summaries of the kept runs of one domain (or one item), oldest first."""
        found: list[dict[str, Any]] = []
        for (trace_domain, trace_item), ring in self._traces.items():
            if trace_domain == domain and (item_id is None or trace_item == item_id):
                found.extend(trace.summary() for trace in ring)
        return sorted(found, key=lambda item: item["timestamp"]["start"] or "")

    def get(self, domain: str, item_id: str, run_id: str) -> dict[str, Any] | None:
        """One run's full trace, or None."""
        for trace in self._traces.get((domain, item_id), ()):
            if trace.run_id == run_id:
                return trace.as_dict()
        return None

    def items(self) -> Iterable[tuple[tuple[str, str], deque[AnyTrace]]]:
        """Every item's ring buffer."""
        return self._traces.items()

    async def async_save(self) -> None:
        """Write every kept trace (finished or not) to `.storage`."""
        data = {f"{domain}.{item_id}": [_plain(trace.as_dict()) for trace in ring]
                for (domain, item_id), ring in self._traces.items() if ring}
        try:
            await self._store.async_save(data)
        except StorageError as err:
            _LOGGER.error("Traces not saved: %s", err)
