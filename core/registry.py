"""Area, device and entity registries, persisted under `.storage/` with atomic writes.

The entity registry is what keeps entity ids stable: once an entity with a unique id has been
given `sensor.yi_hao_xun_huan_beng_gong_lv`, it keeps that id across restarts and renames.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from plantpulse.core.const import (
    EVENT_AREA_REGISTRY_UPDATED,
    EVENT_DEVICE_REGISTRY_UPDATED,
    EVENT_ENTITY_REGISTRY_UPDATED,
)
from plantpulse.core.slug import slugify
from plantpulse.core.storage import Store

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

SAVE_DELAY = 1.0


def _shallow_dict(entry: Any) -> dict[str, Any]:
    """The fields of a slots dataclass of plain values, without `asdict`'s deep copy (a save
    of a thousand-entity registry runs on the loop: this keeps it a few milliseconds)."""
    return {name: getattr(entry, name) for name in entry.__slots__}


def _from_dict(cls: type[Any], data: dict[str, Any]) -> Any:
    known = {item.name for item in fields(cls)}
    return cls(**{key: value for key, value in data.items() if key in known})


@dataclass(slots=True)
class AreaEntry:
    """A place in the plant: a workshop, a line, a pump house."""

    id: str
    name: str
    parent_id: str | None = None
    icon: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the API."""
        return _shallow_dict(self)


@dataclass(slots=True)
class DeviceEntry:
    """A physical or simulated device: a meter, a camera, a sensor node."""

    id: str
    identifiers: list[tuple[str, str]]
    platform: str
    name: str
    manufacturer: str | None = None
    model: str | None = None
    sw_version: str | None = None
    serial_number: str | None = None
    area_id: str | None = None
    via_device_id: str | None = None
    name_by_user: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the API."""
        data = _shallow_dict(self)
        data["identifiers"] = [list(item) for item in self.identifiers]
        return data


@dataclass(slots=True)
class EntityEntry:
    """What the registry remembers of an entity with a unique id."""

    entity_id: str
    unique_id: str
    platform: str
    original_name: str | None = None
    name: str | None = None
    device_id: str | None = None
    area_id: str | None = None
    icon: str | None = None
    disabled: bool = False
    created_at: float = field(default_factory=time.time)

    @property
    def domain(self) -> str:
        """The entity's domain (sensor, switch...)."""
        return self.entity_id.partition(".")[0]

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the API."""
        return _shallow_dict(self)


class AreaRegistry:
    """Areas of the plant, keyed by a stable slug of their first name."""

    STORAGE_KEY = "core.area_registry"
    STORAGE_VERSION = 1

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._store = Store(hub, self.STORAGE_KEY, self.STORAGE_VERSION)
        self.areas: dict[str, AreaEntry] = {}

    async def async_load(self) -> None:
        """Read stored areas."""
        data = await self._store.async_load() or {}
        self.areas = {item["id"]: _from_dict(AreaEntry, item) for item in data.get("areas", [])}

    def get(self, area_id: str | None) -> AreaEntry | None:
        """Return an area by id."""
        return self.areas.get(area_id) if area_id else None

    def async_get_or_create(self, name: str, parent_id: str | None = None) -> AreaEntry:
        """Return the area with this name, creating it (id from the name) if needed."""
        for area in self.areas.values():
            if area.name == name:
                return area
        base = slugify(name)
        area_id, counter = base, 2
        while area_id in self.areas:
            area_id, counter = f"{base}_{counter}", counter + 1
        area = AreaEntry(area_id, name, parent_id)
        self.areas[area_id] = area
        self._schedule_save()
        self._hub.bus.async_fire(EVENT_AREA_REGISTRY_UPDATED, {"action": "create",
                                                              "area_id": area_id})
        return area

    def _schedule_save(self) -> None:
        self._store.async_delay_save(
            lambda: {"areas": [area.as_dict() for area in self.areas.values()]}, SAVE_DELAY
        )


class DeviceRegistry:
    """Devices, found again by their identifiers (integration, serial or address)."""

    STORAGE_KEY = "core.device_registry"
    STORAGE_VERSION = 1

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._store = Store(hub, self.STORAGE_KEY, self.STORAGE_VERSION)
        self.devices: dict[str, DeviceEntry] = {}
        self._by_identifier: dict[tuple[str, str], str] = {}

    async def async_load(self) -> None:
        """Read stored devices."""
        data = await self._store.async_load() or {}
        for item in data.get("devices", []):
            item = dict(item, identifiers=[tuple(pair) for pair in item["identifiers"]])
            self._index(_from_dict(DeviceEntry, item))

    def _index(self, device: DeviceEntry) -> None:
        self.devices[device.id] = device
        for identifier in device.identifiers:
            self._by_identifier[identifier] = device.id

    def get(self, device_id: str | None) -> DeviceEntry | None:
        """Return a device by id."""
        return self.devices.get(device_id) if device_id else None

    def async_get_or_create(
        self,
        platform: str,
        identifiers: Iterable[tuple[str, str]],
        name: str,
        manufacturer: str | None = None,
        model: str | None = None,
        sw_version: str | None = None,
        serial_number: str | None = None,
        suggested_area: str | None = None,
        via_device: tuple[str, str] | None = None,
    ) -> DeviceEntry:
        """Find the device by any identifier or create it; refresh what the integration says."""
        identifiers = [tuple(item) for item in identifiers]
        device_id = next(
            (self._by_identifier[item] for item in identifiers if item in self._by_identifier),
            None,
        )
        via_device_id = self._by_identifier.get(via_device) if via_device else None
        if device_id is None:
            area_id = (
                self._hub.area_registry.async_get_or_create(suggested_area).id
                if suggested_area else None
            )
            device = DeviceEntry(uuid.uuid4().hex, identifiers, platform, name, area_id=area_id)
            before = None
        else:
            device = self.devices[device_id]
            before = device.as_dict()
            device.identifiers = sorted(set(device.identifiers) | set(identifiers))
        device.name = name
        device.manufacturer = manufacturer
        device.model = model
        device.sw_version = sw_version
        device.serial_number = serial_number
        device.via_device_id = via_device_id
        if before is None or before != device.as_dict():
            self._index(device)
            self._schedule_save()
            self._hub.bus.async_fire(
                EVENT_DEVICE_REGISTRY_UPDATED,
                {"action": "create" if before is None else "update", "device_id": device.id},
            )
        return device

    def _schedule_save(self) -> None:
        self._store.async_delay_save(
            lambda: {"devices": [device.as_dict() for device in self.devices.values()]},
            SAVE_DELAY,
        )


class EntityRegistry:
    """Entities with unique ids: their frozen entity ids, names, devices and areas."""

    STORAGE_KEY = "core.entity_registry"
    STORAGE_VERSION = 1

    def __init__(self, hub: Hub) -> None:
        self._hub = hub
        self._store = Store(hub, self.STORAGE_KEY, self.STORAGE_VERSION)
        self.entities: dict[str, EntityEntry] = {}
        self._by_unique_id: dict[tuple[str, str, str], str] = {}

    async def async_load(self) -> None:
        """Read stored entities."""
        data = await self._store.async_load() or {}
        for item in data.get("entities", []):
            self._index(_from_dict(EntityEntry, item))

    def _index(self, entry: EntityEntry) -> None:
        self.entities[entry.entity_id] = entry
        self._by_unique_id[(entry.domain, entry.platform, entry.unique_id)] = entry.entity_id

    def get(self, entity_id: str) -> EntityEntry | None:
        """Return the entry of an entity id."""
        return self.entities.get(entity_id)

    def async_get_entity_id(self, domain: str, platform: str, unique_id: str) -> str | None:
        """Return the entity id registered for a unique id."""
        return self._by_unique_id.get((domain, platform, unique_id))

    def async_generate_entity_id(self, domain: str, name: str) -> str:
        """A free entity id `<domain>.<slug of name>`, suffixed `_2`, `_3`... when taken."""
        base = f"{domain}.{slugify(name)}"
        candidate, counter = base, 2
        while (
            candidate in self.entities
            or self._hub.states.get(candidate) is not None
            or self._hub.entities.get(candidate) is not None
        ):
            candidate, counter = f"{base}_{counter}", counter + 1
        return candidate

    def async_get_or_create(
        self,
        domain: str,
        platform: str,
        unique_id: str,
        original_name: str | None,
        device_id: str | None = None,
    ) -> EntityEntry:
        """Return the entry for a unique id; a new one takes an id made from its name."""
        existing = self.async_get_entity_id(domain, platform, unique_id)
        if existing is not None:
            entry = self.entities[existing]
            if entry.original_name != original_name or entry.device_id != device_id:
                entry.original_name = original_name
                entry.device_id = device_id
                self._schedule_save()
            return entry
        entity_id = self.async_generate_entity_id(domain, original_name or unique_id)
        entry = EntityEntry(entity_id, unique_id, platform, original_name, device_id=device_id)
        self._index(entry)
        self._schedule_save()
        self._hub.bus.async_fire(
            EVENT_ENTITY_REGISTRY_UPDATED, {"action": "create", "entity_id": entity_id}
        )
        return entry

    def async_update(self, entity_id: str, **changes: Any) -> EntityEntry:
        """Change an entry's `name`, `area_id`, `icon` or `disabled` (the id stays frozen)."""
        unknown = set(changes) - {"name", "area_id", "icon", "disabled"}
        if unknown:
            raise ValueError(f"Cannot change {', '.join(sorted(unknown))} of {entity_id}")
        entry = self.entities[entity_id]
        for key, value in changes.items():
            setattr(entry, key, value)
        self._schedule_save()
        self._hub.bus.async_fire(
            EVENT_ENTITY_REGISTRY_UPDATED, {"action": "update", "entity_id": entity_id}
        )
        return entry

    def async_remove(self, entity_id: str) -> None:
        """Forget an entity; its id becomes free."""
        entry = self.entities.pop(entity_id, None)
        if entry is None:
            return
        self._by_unique_id.pop((entry.domain, entry.platform, entry.unique_id), None)
        self._schedule_save()
        self._hub.bus.async_fire(
            EVENT_ENTITY_REGISTRY_UPDATED, {"action": "remove", "entity_id": entity_id}
        )

    def _schedule_save(self) -> None:
        self._store.async_delay_save(
            lambda: {"entities": [entry.as_dict() for entry in self.entities.values()]},
            SAVE_DELAY,
        )
