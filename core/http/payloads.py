"""Answers shared by the REST and WebSocket APIs: config, services, registries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from plantpulse.core.const import VERSION

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

# The units of each unit system `site.UNIT_SYSTEMS` names, in Home Assistant's shape.
UNITS: Final[dict[str, dict[str, str]]] = {
    "metric": {
        "length": "km", "accumulated_precipitation": "mm", "mass": "g", "pressure": "Pa",
        "temperature": "°C", "volume": "L", "wind_speed": "m/s",
    },
    "us_customary": {
        "length": "mi", "accumulated_precipitation": "in", "mass": "lb", "pressure": "psi",
        "temperature": "°F", "volume": "gal", "wind_speed": "mph",
    },
}


def config_payload(hub: Hub) -> dict[str, Any]:
    """The hub's settings in Home Assistant's `/api/config` shape, plus the site name."""
    site = hub.site
    return {
        "location_name": site.name,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "time_zone": site.time_zone,
        "currency": site.currency,
        "country": site.country,
        "language": site.language,
        "unit_system": {"name": site.unit_system, **UNITS[site.unit_system]},
        "version": VERSION,
        "components": sorted(hub.components),
        "state": str(hub.state),
        "config_dir": str(hub.config_dir),
        "config_source": "yaml",
        "config_issues": len(hub.config_issues),
        "recovery_mode": hub.recovery_mode,
        "safe_mode": False,
    }


def services_by_domain(hub: Hub) -> dict[str, dict[str, Any]]:
    """`{domain: {service: description}}`, the WebSocket `get_services` shape."""
    return {
        domain: {name: service.as_dict() for name, service in services.items()}
        for domain, services in sorted(hub.services.async_services().items())
    }


def area_list(hub: Hub) -> list[dict[str, Any]]:
    """Areas for `config/area_registry/list`."""
    return [
        {"area_id": area.id, "name": area.name, "parent_id": area.parent_id, "icon": area.icon}
        for area in hub.area_registry.areas.values()
    ]


def device_list(hub: Hub) -> list[dict[str, Any]]:
    """Devices for `config/device_registry/list`."""
    return [
        {
            "id": device.id,
            "name": device.name,
            "name_by_user": device.name_by_user,
            "manufacturer": device.manufacturer,
            "model": device.model,
            "sw_version": device.sw_version,
            "serial_number": device.serial_number,
            "area_id": device.area_id,
            "via_device_id": device.via_device_id,
            "identifiers": [list(item) for item in device.identifiers],
        }
        for device in hub.device_registry.devices.values()
    ]


def entity_list(hub: Hub) -> list[dict[str, Any]]:
    """Registered entities for `config/entity_registry/list`.

    `area_id` is the entity's own area, else its device's, so a page can group by it directly.
    """
    devices = hub.device_registry
    result = []
    for entry in hub.entity_registry.entities.values():
        device = devices.get(entry.device_id)
        result.append({
            "entity_id": entry.entity_id,
            "name": entry.name,
            "original_name": entry.original_name,
            "device_id": entry.device_id,
            "area_id": entry.area_id or (device.area_id if device else None),
            "platform": entry.platform,
            "unique_id": entry.unique_id,
            "icon": entry.icon,
            "disabled_by": "user" if entry.disabled else None,
        })
    return result
