"""The automation entity: on/off, its triggers attached while on, and each trigger's run."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Final

import voluptuous as vol

from plantpulse.automations.actions import compile_data
from plantpulse.automations.conditions import compile_conditions
from plantpulse.automations.const import ATTR_LAST_TRIGGERED, RunMode
from plantpulse.automations.runtime import RunContext
from plantpulse.automations.script import ActiveRun, Script
from plantpulse.automations.trace import AnyTrace, Trace, TraceStore
from plantpulse.automations.triggers import TriggerInfo, async_attach_triggers
from plantpulse.core.config import validation as cv
from plantpulse.core.const import EVENT_HUB_STARTED, STATE_OFF, HubState
from plantpulse.core.dt import parse_datetime
from plantpulse.core.entity import EntityService, ToggleEntity
from plantpulse.core.events import Context, Event
from plantpulse.core.restore_state import RestoreEntity
from plantpulse.core.template import TemplateError
from plantpulse.integrations.automation.config import AutomationConfig

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

# Fired when an automation's conditions pass and its actions start, as Home Assistant does.
EVENT_AUTOMATION_TRIGGERED: Final = "automation_triggered"

DOMAIN: Final = "automation"


def _compile_variables(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(name, compile_data(value)) for name, value in values.items()]


class AutomationEntity(RestoreEntity, ToggleEntity):
    """One automation. While on, its triggers are attached; each firing may start a run."""

    DOMAIN = DOMAIN
    SERVICES: ClassVar[Mapping[str, EntityService]] = {
        "turn_on": EntityService("async_turn_on", description="Enable the automation."),
        "turn_off": EntityService(
            "async_turn_off", {vol.Optional("stop_actions", default=True): cv.boolean},
            "Disable the automation; stop_actions (default true) also stops running runs.",
        ),
        "toggle": EntityService("async_toggle", description="Enable or disable it."),
        "trigger": EntityService(
            "async_trigger_service",
            {vol.Optional("skip_condition", default=True): cv.boolean,
             vol.Optional("variables", default={}): dict},
            "Run the actions now (conditions are skipped unless skip_condition is false).",
        ),
    }

    def __init__(self, hub: Hub, automation: AutomationConfig, item_id: str,
                 traces: TraceStore, previous: AutomationEntity | None = None) -> None:
        """`previous` is the version a reload replaces: its on/off and last_triggered carry
        over (as Home Assistant restores them), unless `initial_state` says otherwise."""
        config = automation.config
        self.automation = automation
        self.item_id = item_id
        self._attr_unique_id = config.get("id")
        self._attr_name = config.get("alias") or config.get("id") or item_id
        self._attr_is_on = False
        self._mode = RunMode(config["mode"])
        self._initial_state: bool | None = config.get("initial_state")
        self._last_triggered: datetime | None = previous.last_triggered if previous else None
        self._previous_on = previous.is_on if previous else None
        self._conditions = compile_conditions(hub, config["conditions"], "condition")
        self._variables = _compile_variables(config["variables"])
        self._trigger_variables = _compile_variables(config["trigger_variables"])
        self._traces: deque[AnyTrace] = traces.buffer(
            DOMAIN, item_id, config["trace"]["stored_traces"])
        self._script = Script(
            hub, f"automation {self._attr_name}", config["actions"], "action", self._mode,
            config["max"], config["max_exceeded"], self._runs_changed,
        )
        self._detach: Callable[[], None] | None = None
        self._cancel_start: Callable[[], None] | None = None

    # State --------------------------------------------------------------------------------

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        return {"id": self._attr_unique_id, **self._script.run_attributes(self._last_triggered)}

    @property
    def last_triggered(self) -> datetime | None:
        """When the actions last started (conditions passed)."""
        return self._last_triggered

    def _runs_changed(self) -> None:
        if self.entity_id is not None and self.hub.entities.get(self.entity_id) is self:
            self.async_write_state()

    # Lifecycle ----------------------------------------------------------------------------

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        if self._previous_on is not None:
            was_on = self._previous_on
        else:
            last = await self.async_get_last_state()
            was_on = last is None or last.state != STATE_OFF
            if last is not None and (stamp := last.attributes.get(ATTR_LAST_TRIGGERED)):
                try:
                    self._last_triggered = parse_datetime(str(stamp))
                except ValueError:
                    self._last_triggered = None
        enable = self._initial_state if self._initial_state is not None else was_on
        if not enable:
            return
        self._attr_is_on = True
        if self.hub.state in (HubState.NOT_RUNNING, HubState.STARTING):
            self._cancel_start = self.hub.bus.async_listen_once(EVENT_HUB_STARTED,
                                                                self._hub_started)
        else:
            self._attach(starting=False)

    def _hub_started(self, _event: Event) -> None:
        self._cancel_start = None
        if self._attr_is_on and self._detach is None:
            self._attach(starting=True)

    def _attach(self, starting: bool) -> None:
        variables: dict[str, Any] = {}
        for name, render in self._trigger_variables:
            try:
                variables[name] = render(self.hub, variables)
            except TemplateError as err:
                _LOGGER.error("Automation %s: trigger_variables %s: %s", self.name, name, err)
                return
        self._detach = async_attach_triggers(
            self.hub, self.automation.config["triggers"], self._triggered,
            TriggerInfo(DOMAIN, str(self.name), variables=variables, starting=starting),
        )

    def detach_triggers(self) -> None:
        """Stop listening to the triggers (turned off, removed, or the hub is stopping)."""
        if self._cancel_start is not None:
            self._cancel_start()
            self._cancel_start = None
        if self._detach is not None:
            self._detach()
            self._detach = None

    async def async_will_remove_from_hub(self) -> None:
        self.detach_triggers()
        await self._script.async_stop()

    def active_runs(self) -> list[ActiveRun]:
        """Its runs in progress, oldest first."""
        return self._script.active_runs()

    async def async_stop_runs(self, runs: Iterable[ActiveRun] | None = None) -> None:
        """End its runs in progress (or those of them in `runs`)."""
        await self._script.async_stop(runs)

    # Services -----------------------------------------------------------------------------

    async def async_turn_on(self) -> None:
        """Enable: attach the triggers."""
        if self._attr_is_on:
            return
        self._attr_is_on = True
        self._attach(starting=False)

    async def async_turn_off(self, stop_actions: bool = True) -> None:
        """Disable: detach the triggers, and stop runs unless `stop_actions` is false."""
        self._attr_is_on = False
        self.detach_triggers()
        if stop_actions:
            await self._script.async_stop()

    async def async_toggle(self) -> None:
        """Enable when off, disable when on."""
        if self._attr_is_on:
            await self.async_turn_off()
        else:
            await self.async_turn_on()

    async def async_trigger_service(self, skip_condition: bool = True,
                                    variables: Mapping[str, Any] | None = None) -> None:
        """`automation.trigger`: run now, as if a trigger fired."""
        self.async_trigger({"platform": None, "description": "manual trigger",
                            **(variables or {})}, self._context, skip_condition=skip_condition)

    # Runs ---------------------------------------------------------------------------------

    def _triggered(self, trigger: dict[str, Any], context: Context | None) -> None:
        self.async_trigger(trigger, context)

    def async_trigger(
        self,
        trigger: dict[str, Any],
        context: Context | None = None,
        skip_condition: bool = False,
    ) -> ActiveRun | None:
        """Check the conditions and start a run; returns it, or None when none started."""
        hub = self.hub
        run_context = RunContext(context)
        trace = Trace(DOMAIN, self.item_id, hub.clock.time, run_context,
                      trigger.get("description"), self.automation.raw,
                      self.automation.blueprint_inputs)
        self._traces.append(trace)
        variables: dict[str, Any] = {"this": hub.states.get(self.entity_id or ""),
                                     "trigger": trigger}
        if "variables" in trigger:  # the trigger's own `variables:` (automations.triggers)
            variables.update(trigger["variables"])
        step = trace.add_step(f"trigger/{trigger['idx']}" if "idx" in trigger else "trigger")
        step.variables = variables
        for name, render in self._variables:
            try:
                variables[name] = render(hub, variables)
            except TemplateError as err:
                step.error = f"variables: {name}: {err}"
                _LOGGER.error("Automation %s: variable %s: %s", self.name, name, err)
                trace.finished("error", step.error)
                return None
        if not skip_condition:
            for check in self._conditions:
                if not check(variables, trace):
                    trace.finished("failed_conditions")
                    return None
        self._last_triggered = hub.clock.now()
        self.async_write_state(context=run_context)
        hub.bus.async_fire(EVENT_AUTOMATION_TRIGGERED, {
            "name": self.name, "entity_id": self.entity_id,
            "source": trigger.get("description"),
        }, context=run_context)
        return self._script.async_run(variables, run_context, trace)
