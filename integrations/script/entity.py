"""The script entity: on while a run is in progress, and the runs it starts for its services."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.actions import compile_data
from plantpulse.automations.const import ATTR_LAST_TRIGGERED, RunMode
from plantpulse.automations.runtime import ScriptError
from plantpulse.automations.script import ActiveRun, Script
from plantpulse.automations.selectors import Validator, selector_validator
from plantpulse.automations.trace import AnyTrace, Trace, TraceStore
from plantpulse.core.dt import parse_datetime
from plantpulse.core.entity import ToggleEntity
from plantpulse.core.restore_state import RestoreEntity
from plantpulse.core.services import ServiceField
from plantpulse.core.template import TemplateError
from plantpulse.integrations.script.config import ScriptConfig

if TYPE_CHECKING:
    from plantpulse.core.events import Context
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DOMAIN: Final = "script"
# The scripts whose runs led to the current code, outermost first: a script that waits for
# itself (directly or through others) would wait forever, so such calls are refused.
_CALL_CHAIN: ContextVar[tuple[str, ...]] = ContextVar("script_call_chain", default=())


class ScriptField:
    """One declared field: its default, whether it must be given, and its value check."""

    __slots__ = ("default", "has_default", "name", "required", "validate")

    def __init__(self, name: str, spec: Mapping[str, Any]) -> None:
        self.name = name
        self.has_default = "default" in spec
        self.default = spec.get("default")
        self.required = bool(spec["required"])
        self.validate: Validator = selector_validator(spec.get("selector"))


class ScriptEntity(RestoreEntity, ToggleEntity):
    """One script: its runs (under its run mode), its fields, traces and last start."""

    DOMAIN = DOMAIN

    def __init__(self, hub: Hub, script: ScriptConfig, traces: TraceStore) -> None:
        config = script.config
        self.script_config = script
        self.object_id = script.object_id
        self.entity_id = f"{DOMAIN}.{script.object_id}"
        self._attr_name = script.name
        self._attr_icon = config.get("icon")
        self._mode = RunMode(config["mode"])
        self._last_triggered: datetime | None = None
        self._fields = [ScriptField(name, spec) for name, spec in config["fields"].items()]
        self._variables = [(name, compile_data(value))
                           for name, value in config["variables"].items()]
        self._traces: deque[AnyTrace] = traces.buffer(
            DOMAIN, script.object_id, config["trace"]["stored_traces"])
        self._script = Script(
            hub, f"script {script.name}", config["sequence"], "sequence", self._mode,
            config["max"], config["max_exceeded"], self._runs_changed,
        )

    # State --------------------------------------------------------------------------------

    @property
    def is_on(self) -> bool:
        """Whether a run is in progress."""
        return self._script.runs > 0

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        return self._script.run_attributes(self._last_triggered)

    @property
    def last_triggered(self) -> datetime | None:
        """When a run last started."""
        return self._last_triggered

    @property
    def service_fields(self) -> dict[str, ServiceField]:
        """The fields as the service registry documents them."""
        return {
            name: ServiceField(spec["description"], spec.get("example"), spec["required"])
            for name, spec in self.script_config.config["fields"].items()
        }

    def _runs_changed(self) -> None:
        if self.entity_id is not None and self.hub.entities.get(self.entity_id) is self:
            self.async_write_state()

    # Lifecycle ----------------------------------------------------------------------------

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        last = await self.async_get_last_state()
        if last is not None and (stamp := last.attributes.get(ATTR_LAST_TRIGGERED)):
            try:
                self._last_triggered = parse_datetime(str(stamp))
            except ValueError:
                self._last_triggered = None

    async def async_will_remove_from_hub(self) -> None:
        await self.async_stop()

    # Runs ---------------------------------------------------------------------------------

    def check_fields(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """The run variables for `data`: defaults filled in, required fields and selectors
        checked (vol.Invalid naming the field). Keys that are not fields pass through."""
        variables = dict(data)
        for field in self._fields:
            if field.name in variables:
                try:
                    variables[field.name] = field.validate(variables[field.name])
                except vol.Invalid as err:
                    raise vol.Invalid(f"field '{field.name}': {err.error_message}") from None
            elif field.has_default:
                variables[field.name] = field.default
            elif field.required:
                raise vol.Invalid(f"required field '{field.name}' is missing")
        return variables

    def async_start(self, variables: Mapping[str, Any], context: Context, *,
                    waiting: bool) -> ActiveRun | None:
        """Start a run with checked `variables`; None when none started (run mode, recursion).

        Raises ScriptError when the script's own `variables:` cannot be rendered.
        """
        hub = self.hub
        trace = Trace(DOMAIN, self.object_id, hub.clock.time, context, None,
                      self.script_config.raw)
        self._traces.append(trace)
        chain = _CALL_CHAIN.get()
        if waiting and self.object_id in chain and self._mode is not RunMode.PARALLEL:
            trace.finished("disallowed_recursion_detected")
            _LOGGER.warning(
                "Script %s called itself through %s and would wait for itself forever "
                "(mode %s); this run is dropped", self.object_id, " -> ".join(chain),
                self._mode,
            )
            return None
        scope: dict[str, Any] = {"this": hub.states.get(self.entity_id or ""), **variables}
        step = trace.add_step("start")
        for name, render in self._variables:
            if name in variables:  # what the caller passed wins (Home Assistant's rule)
                continue
            try:
                scope[name] = render(hub, scope)
            except TemplateError as err:
                step.error = f"variables: {name}: {err}"
                trace.finished("error", step.error)
                raise ScriptError(f"script.{self.object_id}: {step.error}") from None
        step.variables = dict(scope)
        scope["context"] = context
        previous = self._last_triggered
        self._last_triggered = hub.clock.now()
        token = _CALL_CHAIN.set((*chain, self.object_id))
        try:
            active = self._script.async_run(scope, context, trace)
        finally:
            _CALL_CHAIN.reset(token)
        if active is None:
            self._last_triggered = previous
        else:
            self._runs_changed()
        return active

    async def async_run_and_wait(self, variables: Mapping[str, Any], context: Context,
                                 return_response: bool) -> dict[str, Any] | None:
        """Run and wait for the end (the `script.<id>` service); returns the response.

        A run that fails raises ScriptError; one stopped by `script.turn_off` just returns.
        If the caller is cancelled (its own run was stopped), the run is stopped too.
        """
        active = self.async_start(variables, context, waiting=True)
        if active is None:
            return {} if return_response else None
        try:
            await active.async_wait()
        except asyncio.CancelledError:
            active.cancel()
            raise
        if active.error is not None:
            raise ScriptError(f"script.{self.object_id} failed: {active.error}")
        if not return_response:
            return None
        response = active.run.response
        if response is None:
            return {}
        if not isinstance(response, Mapping):
            raise ScriptError(
                f"script.{self.object_id}: the response must be a mapping of names to values, "
                f"got {type(response).__name__} {response!r}"
            )
        return dict(response)

    async def async_stop(self) -> None:
        """Stop every run in progress."""
        await self._script.async_stop()
