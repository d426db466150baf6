"""Adds entities to the hub: registry ids, devices, platform services, polling, removal."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import voluptuous as vol

from plantpulse.core.entity import Entity, service_schema
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.services import ServiceCall

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

DEFAULT_SCAN_INTERVAL = timedelta(seconds=30)
_TARGET_KEYS = ("entity_id", "area_id", "device_id")


class EntityManager:
    """Every entity object of the hub, by entity id."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._entities: dict[str, Entity] = {}
        self._service_domains: set[str] = set()

    def get(self, entity_id: str) -> Entity | None:
        """Return the entity object behind an entity id."""
        return self._entities.get(entity_id)

    def all(self, platform: str | None = None) -> list[Entity]:
        """Return all entities, or those an integration created."""
        return [
            entity for entity in self._entities.values()
            if platform is None or entity.platform == platform
        ]

    async def async_add(
        self,
        platform: str,
        entities: Iterable[Entity],
        scan_interval: timedelta = DEFAULT_SCAN_INTERVAL,
    ) -> list[Entity]:
        """Add entities created by integration `platform`; returns those added.

        Entities with a unique id get the entity id frozen in the registry (made from their
        name the first time); a disabled registry entry keeps the entity out.
        """
        prepared = []
        for entity in entities:
            if self._prepare(platform, entity):
                self._entities[entity.entity_id] = entity  # type: ignore[index]
                self._register_services(type(entity))
                prepared.append(entity)
        added = []
        for entity in prepared:
            try:
                await entity.async_added_to_hub()
                entity.async_write_state()
            except Exception:
                _LOGGER.exception("Error adding %s from %s", entity.entity_id, platform)
                self._entities.pop(entity.entity_id, None)  # type: ignore[arg-type]
                entity.async_run_on_remove()
                continue
            added.append(entity)
            if entity.should_poll:
                entity.async_on_remove(self._hub.async_track_interval(
                    lambda entity=entity: self._async_poll(entity), scan_interval,
                    f"poll {entity.entity_id}",
                ))
        return added

    def _prepare(self, platform: str, entity: Entity) -> bool:
        entity.hub = self._hub
        entity.platform = platform
        domain = entity.DOMAIN
        if info := entity.device_info:
            entity.device_entry = self._hub.device_registry.async_get_or_create(
                platform,
                info.get("identifiers", []),
                info.get("name", ""),
                manufacturer=info.get("manufacturer"),
                model=info.get("model"),
                sw_version=info.get("sw_version"),
                serial_number=info.get("serial_number"),
                suggested_area=info.get("suggested_area"),
                via_device=info.get("via_device"),
            )
        name = entity.friendly_name
        if entity.unique_id is not None:
            entry = self._hub.entity_registry.async_get_or_create(
                domain, platform, entity.unique_id, name,
                entity.device_entry.id if entity.device_entry else None,
            )
            if entry.disabled:
                return False
            entity.registry_entry = entry
            entity.entity_id = entry.entity_id
        elif entity.entity_id is None:
            entity.entity_id = self._hub.entity_registry.async_generate_entity_id(
                domain, name or platform
            )
        if entity.entity_id in self._entities:
            _LOGGER.error(
                "%s from %s has entity id %s, which another entity already uses; skipped",
                entity, platform, entity.entity_id,
            )
            return False
        return True

    async def _async_poll(self, entity: Entity) -> None:
        try:
            await entity.async_update()
        except Exception:
            _LOGGER.exception("Error updating %s", entity.entity_id)
            return
        entity.async_write_state()

    async def async_remove(self, entity_id: str) -> None:
        """Remove an entity object and its state."""
        entity = self._entities.pop(entity_id, None)
        if entity is None:
            return
        await entity.async_will_remove_from_hub()
        entity.async_run_on_remove()
        self._hub.states.async_remove(entity_id)

    def area_of(self, entity: Entity) -> str | None:
        """The entity's area: its own registry area, else its device's."""
        if entity.registry_entry is not None and entity.registry_entry.area_id:
            return entity.registry_entry.area_id
        return entity.device_entry.area_id if entity.device_entry else None

    def resolve_targets(self, domain: str, data: dict[str, Any]) -> list[Entity]:
        """Entities of `domain` named by `entity_id` ("all"), `area_id` or `device_id`."""
        candidates = [entity for entity in self._entities.values() if domain == entity.DOMAIN]
        wanted_ids = data.get("entity_id")
        if wanted_ids == "all":
            return candidates
        ids = set(wanted_ids or ())
        areas = set(data.get("area_id") or ())
        devices = set(data.get("device_id") or ())
        return [
            entity for entity in candidates
            if entity.entity_id in ids
            or (entity.device_entry is not None and entity.device_entry.id in devices)
            or self.area_of(entity) in areas
        ]

    def _register_services(self, entity_class: type[Entity]) -> None:
        domain = entity_class.DOMAIN
        if domain in self._service_domains or not entity_class.SERVICES:
            return
        self._service_domains.add(domain)
        for service, spec in entity_class.SERVICES.items():

            async def handle(call: ServiceCall, method: str = spec.method) -> None:
                await self._async_call_entities(call, method)

            self._hub.services.async_register(
                domain, service, handle, service_schema(spec.schema), description=spec.description
            )

    async def _async_call_entities(self, call: ServiceCall, method: str) -> None:
        targets = self.resolve_targets(call.domain, dict(call.data))
        arguments = {key: value for key, value in call.data.items() if key not in _TARGET_KEYS}
        for entity in targets:
            if not entity.available:
                _LOGGER.warning("%s.%s skipped %s: unavailable", call.domain, call.service,
                                entity.entity_id)
                continue
            entity.async_set_context(call.context)
            try:
                await getattr(entity, method)(**arguments)
            except vol.Invalid as err:
                raise ServiceValidationError(
                    f"{call.domain}.{call.service} on {entity.entity_id}: {err.msg}"
                ) from err
            entity.async_write_state()
