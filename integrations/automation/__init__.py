"""Automations: "when this happens, if that holds, do these things", written in YAML.

    automation: !include automations.yaml

    # automations.yaml
    - id: line_load_evening
      alias: 产线晚间负荷过高 Line load high after 17:00
      triggers:
        - trigger: numeric_state
          entity_id: sensor.line_load
          above: 40
      conditions:
        - condition: time
          after: "17:00:00"
      actions:
        - action: notify.ops
          data:
            message: "Line load {{ trigger.to_state.state }} kW after 17:00"

Each automation is an entity `automation.<alias>` (on/off; attributes `id`, `last_triggered`,
`mode`, `current`), restored after a restart. Services: `automation.trigger`, `turn_on`,
`turn_off`, `toggle` and `reload` (re-reads the YAML without restarting; admin only). The last
runs of each are kept as traces: WebSocket `trace/list`/`trace/get`, REST `/api/traces/...`.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Final

import voluptuous as vol

from plantpulse.automations.config_io import async_read_block, report_issues
from plantpulse.automations.script import ActiveRun
from plantpulse.automations.trace import TraceStore
from plantpulse.automations.trace_api import async_setup_trace_api
from plantpulse.core.config.errors import ConfigIssue
from plantpulse.core.const import EVENT_HUB_STOP
from plantpulse.core.hub import StopStage
from plantpulse.core.jsonenc import json_dumps
from plantpulse.core.services import ServiceCall
from plantpulse.core.slug import slugify
from plantpulse.integrations.automation.blueprint_use import expand_blueprints
from plantpulse.integrations.automation.config import AutomationConfig, validate_automations
from plantpulse.integrations.automation.entity import DOMAIN, AutomationEntity

if TYPE_CHECKING:
    from plantpulse.core.events import Event
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA: Final = validate_automations
_DATA_KEY: Final = "automation"
# How long runs that a shutdown trigger started may go on while the hub stops (Home Assistant
# gives them 60 s; one stop step of the hub may take 30).
SHUTDOWN_GRACE: Final = 20.0


def _item_ids(automations: list[AutomationConfig]) -> list[str]:
    """Trace ids: the automation's `id`, else a slug of its alias, made unique."""
    taken: set[str] = set()
    result = []
    for index, automation in enumerate(automations):
        config = automation.config
        base = config.get("id") or slugify(config.get("alias") or f"automation_{index + 1}")
        item_id, counter = base, 2
        while item_id in taken:
            item_id, counter = f"{base}_{counter}", counter + 1
        taken.add(item_id)
        result.append(item_id)
    return result


def _identity(automation: AutomationConfig) -> str:
    """What makes two versions of an automation the same: the YAML as written (expanded)."""
    return json_dumps(automation.raw) + json_dumps(automation.blueprint_inputs)


def validate_config(
    config_dir: Path, automations: list[AutomationConfig]
) -> tuple[list[AutomationConfig], list[ConfigIssue]]:
    """Fill in blueprints (reads their files): the loader runs this after CONFIG_SCHEMA, off
    the loop, so `check-config` reports wrong blueprint inputs as setup would."""
    if not any(automation.uses_blueprint for automation in automations):
        return automations, []
    return expand_blueprints(config_dir, automations)


async def _async_apply(hub: Hub, automations: list[AutomationConfig]) -> None:
    """Make the running automations match `automations`; unchanged ones keep running."""
    traces = await TraceStore.async_of(hub)
    current: dict[str, AutomationEntity] = hub.data.setdefault(_DATA_KEY, {})
    wanted = dict(zip(_item_ids(automations), automations, strict=True))
    replaced: dict[str, AutomationEntity] = {}
    for item_id, entity in list(current.items()):
        automation = wanted.get(item_id)
        if automation is None or _identity(automation) != _identity(entity.automation):
            del current[item_id]
            await hub.entities.async_remove(entity.entity_id or "")
            if automation is None:
                traces.forget(DOMAIN, item_id)
            else:
                replaced[item_id] = entity
    new = {item_id: AutomationEntity(hub, automation, item_id, traces, replaced.get(item_id))
           for item_id, automation in wanted.items() if item_id not in current}
    added = await hub.entities.async_add(DOMAIN, new.values())
    for item_id, entity in new.items():
        if entity in added:
            current[item_id] = entity


def _async_stop_runs_at_shutdown(hub: Hub) -> None:
    """When the hub stops: no more triggers; runs that were going on end at once (cancelled,
    as in Home Assistant), runs that shutdown triggers started get SHUTDOWN_GRACE to finish.
    So no trace is saved as still running."""
    earlier: list[ActiveRun] = []

    def stopping(_event: Event) -> None:
        earlier.extend(run for entity in automation_entities(hub).values()
                       for run in entity.active_runs())

    async def stop() -> None:
        entities = list(automation_entities(hub).values())
        for entity in entities:
            entity.detach_triggers()
        await asyncio.gather(*(entity.async_stop_runs(earlier) for entity in entities))
        later = [run.task for entity in entities for run in entity.active_runs()
                 if run.task is not None]
        if later:
            await asyncio.wait(later, timeout=SHUTDOWN_GRACE)
        await asyncio.gather(*(entity.async_stop_runs() for entity in entities))

    hub.bus.async_listen_once(EVENT_HUB_STOP, stopping)
    hub.async_on_stop(stop, StopStage.INTEGRATIONS)


async def async_setup(hub: Hub, config: list[AutomationConfig]) -> bool:
    """Create the automations, the services and the trace API."""
    await _async_apply(hub, config or [])

    async def reload(_call: ServiceCall) -> None:
        block, found = await async_read_block(hub, DOMAIN, CONFIG_SCHEMA)
        expanded, expand_issues = await hub.async_add_executor_job(
            validate_config, hub.config_dir, block or [])
        report_issues(hub, DOMAIN, [*found, *expand_issues], replace=True)
        await _async_apply(hub, expanded)
        _LOGGER.info("Reloaded automations: %d running", len(hub.data[_DATA_KEY]))

    hub.services.async_register(
        DOMAIN, "reload", reload, vol.Schema({}), admin_only=True,
        description="Re-read the automations from the YAML files; unchanged ones keep running.",
    )
    async_setup_trace_api(hub)
    _async_stop_runs_at_shutdown(hub)
    return True


def automation_entities(hub: Hub) -> dict[str, AutomationEntity]:
    """The running automations by trace id (for tests and other integrations)."""
    entities: dict[str, AutomationEntity] = hub.data.get(_DATA_KEY, {})
    return entities

