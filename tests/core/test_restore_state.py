"""Restored state: an entity gets its last state and extra data back after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plantpulse.core.hub import Hub
from plantpulse.core.platforms.sensor import SensorEntity
from plantpulse.core.restore_state import RestoreEntity


class Setpoint(RestoreEntity, SensorEntity):
    _attr_unique_id = "setpoint"
    _attr_name = "Night setpoint"

    def __init__(self) -> None:
        self._attr_native_value = 40.0
        self.note: str = "fresh"
        self.restored_note: Any = None

    @property
    def extra_restore_data(self) -> dict[str, Any]:
        return {"note": self.note}

    async def async_added_to_hub(self) -> None:
        await super().async_added_to_hub()
        if (last := await self.async_get_last_state()) is not None:
            self._attr_native_value = float(last.state)
            self.restored_note = (await self.async_get_last_extra_data() or {}).get("note")


async def test_state_survives_a_restart(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    await hub.entity_registry.async_load()
    entity = Setpoint()
    await hub.entities.async_add("t", [entity])
    assert hub.states.get("sensor.night_setpoint").state == "40.0"
    entity._attr_native_value = 47.5
    entity.note = "changed by ops"
    entity.async_write_state()
    await hub.async_stop()

    again = Hub(tmp_path)
    await again.entity_registry.async_load()
    restored = Setpoint()
    await again.entities.async_add("t", [restored])
    assert again.states.get("sensor.night_setpoint").state == "47.5"
    assert restored.restored_note == "changed by ops"
    await again.async_stop()
