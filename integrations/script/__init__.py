"""Scripts: named action sequences with fields, run as services by people and automations.

    script: !include scripts.yaml

    # scripts.yaml
    notify_shift_lead:
      alias: 通知班长 Notify the shift lead
      mode: queued
      fields:
        line:
          description: Which line
          required: true
          selector: {text: {}}
        minutes:
          description: For how long
          default: 10
          selector: {number: {min: 1, max: 120}}
      sequence:
        - action: notify.shift_lead
          data:
            message: "{{ line }}: load high for {{ minutes }} min"
        - variables:
            receipt: {line: "{{ line }}", sent_to: shift_lead}
        - stop: sent
          response_variable: receipt

Each script is an entity `script.<id>` (on while a run is in progress; attributes
`last_triggered`, `mode`, `current`) and a service `script.<id>` taking its fields as data
(defaults filled in, required fields and selectors checked) that waits for the run to end and
can return a response (`stop:` with `response_variable:`). `script.turn_on` starts scripts
without waiting (data under `variables:`), `script.turn_off` stops them, `script.toggle` does
either, `script.reload` re-reads the YAML (admin only; unchanged scripts keep running). The
last runs of each are traces under domain `script` (WebSocket `trace/list`/`trace/get`, REST
`/api/traces/script/...`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.automations.config_io import async_read_block, report_issues
from plantpulse.automations.trace import TraceStore
from plantpulse.automations.trace_api import async_setup_trace_api
from plantpulse.core.entity import service_schema
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.jsonenc import json_dumps
from plantpulse.core.services import ServiceCall, ServiceResponse, SupportsResponse
from plantpulse.integrations.script.config import ScriptConfig, validate_scripts
from plantpulse.integrations.script.entity import DOMAIN, ScriptEntity

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA: Final = validate_scripts
_DATA_KEY: Final = "script"


def _identity(script: ScriptConfig) -> str:
    """What makes two versions of a script the same: the YAML as written."""
    return json_dumps(script.raw)


def _check(entity: ScriptEntity, service: str, data: dict[str, Any]) -> dict[str, Any]:
    try:
        return entity.check_fields(data)
    except vol.Invalid as err:
        raise ServiceValidationError(
            f"Invalid data for {service}: {err.error_message}") from None


def _register_script_service(hub: Hub, entity: ScriptEntity) -> None:
    """`script.<id>`: run with the fields as data, wait for the end, return the response."""
    service = f"{DOMAIN}.{entity.object_id}"

    async def handle(call: ServiceCall) -> ServiceResponse:
        return await entity.async_run_and_wait(call.data, call.context, call.return_response)

    config = entity.script_config.config
    hub.services.async_register(
        DOMAIN, entity.object_id, handle,
        vol.Schema(lambda data: _check(entity, service, dict(data))),
        supports_response=SupportsResponse.OPTIONAL, name=entity.script_config.name,
        description=config["description"], fields=entity.service_fields,
    )


async def _async_apply(hub: Hub, scripts: dict[str, ScriptConfig]) -> None:
    """Make the loaded scripts match `scripts`; unchanged ones keep running."""
    traces = await TraceStore.async_of(hub)
    current: dict[str, ScriptEntity] = hub.data.setdefault(_DATA_KEY, {})
    for object_id, entity in list(current.items()):
        script = scripts.get(object_id)
        if script is None or _identity(script) != _identity(entity.script_config):
            del current[object_id]
            hub.services.async_remove(DOMAIN, object_id)
            await hub.entities.async_remove(entity.entity_id or "")
            if script is None:
                traces.forget(DOMAIN, object_id)
    new = [ScriptEntity(hub, script, traces)
           for object_id, script in scripts.items() if object_id not in current]
    for entity in await hub.entities.async_add(DOMAIN, new):
        assert isinstance(entity, ScriptEntity)
        current[entity.object_id] = entity
        _register_script_service(hub, entity)


def _targets(hub: Hub, call: ServiceCall) -> list[ScriptEntity]:
    return [entity for entity in hub.entities.resolve_targets(DOMAIN, dict(call.data))
            if isinstance(entity, ScriptEntity)]


def _register_services(hub: Hub) -> None:
    async def turn_on(call: ServiceCall) -> None:
        targets = _targets(hub, call)
        checked = [(entity, _check(entity, f"script.turn_on on {entity.entity_id}",
                                    call.data["variables"]))
                   for entity in targets]
        for entity, variables in checked:
            entity.async_start(variables, call.context, waiting=False)

    async def turn_off(call: ServiceCall) -> None:
        for entity in _targets(hub, call):
            await entity.async_stop()

    async def toggle(call: ServiceCall) -> None:
        for entity in _targets(hub, call):
            if entity.is_on:
                await entity.async_stop()
            else:
                entity.async_start(_check(entity, f"script.toggle on {entity.entity_id}", {}),
                                   call.context,
                                   waiting=False)

    async def reload(_call: ServiceCall) -> None:
        scripts, issues = await async_read_block(hub, DOMAIN, CONFIG_SCHEMA)
        if scripts is None and issues:
            raise ServiceValidationError(
                "script.reload: the script block is broken; nothing was changed: "
                + "; ".join(str(issue) for issue in issues))
        report_issues(hub, DOMAIN, issues, replace=True)
        await _async_apply(hub, scripts or {})
        _LOGGER.info("Reloaded scripts: %d loaded", len(hub.data[_DATA_KEY]))

    hub.services.async_register(
        DOMAIN, "turn_on", turn_on,
        service_schema({vol.Optional("variables", default={}): dict}),
        description="Start scripts without waiting for them; data for them under variables.",
    )
    hub.services.async_register(DOMAIN, "turn_off", turn_off, service_schema({}),
                                description="Stop every run of the scripts.")
    hub.services.async_register(DOMAIN, "toggle", toggle, service_schema({}),
                                description="Stop the scripts that run, start the others.")
    hub.services.async_register(
        DOMAIN, "reload", reload, vol.Schema({}), admin_only=True,
        description="Re-read the scripts from the YAML files; unchanged ones keep running.",
    )


async def async_setup(hub: Hub, config: dict[str, ScriptConfig]) -> bool:
    """Create the scripts, their services and the trace API."""
    _register_services(hub)
    await _async_apply(hub, config or {})
    async_setup_trace_api(hub)
    return True


def script_entities(hub: Hub) -> dict[str, ScriptEntity]:
    """The loaded scripts by id (for tests and other integrations)."""
    entities: dict[str, ScriptEntity] = hub.data.get(_DATA_KEY, {})
    return entities
