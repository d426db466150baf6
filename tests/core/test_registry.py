"""Registries: entity ids frozen across restarts, devices, areas, atomic storage writes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from plantpulse.core.exceptions import StorageError
from plantpulse.core.hub import Hub
from plantpulse.core.platforms.sensor import SensorEntity
from plantpulse.core.storage import Store, write_json_atomic


class PumpPower(SensorEntity):
    _attr_has_entity_name = True

    def __init__(self, device_name: str) -> None:
        self._attr_unique_id = "pump1_power"
        self._attr_name = "功率"
        self._attr_native_value = 640.2
        self._attr_native_unit_of_measurement = "kW"
        self._attr_device_info = {
            "identifiers": [("test", "pump1")], "name": device_name,
            "suggested_area": "循环水泵房",
        }


async def _hub(path: Path) -> Hub:
    hub = Hub(path)
    await hub.area_registry.async_load()
    await hub.device_registry.async_load()
    await hub.entity_registry.async_load()
    return hub


async def test_entity_id_from_chinese_name_is_frozen_across_restarts(tmp_path: Path) -> None:
    hub = await _hub(tmp_path)
    await hub.entities.async_add("test", [PumpPower("一号循环泵")])
    state = hub.states.get("sensor.yi_hao_xun_huan_beng_gong_lv")
    assert state is not None
    assert state.attributes["friendly_name"] == "一号循环泵 功率"
    entity = hub.entities.get("sensor.yi_hao_xun_huan_beng_gong_lv")
    assert hub.area_registry.get(hub.entities.area_of(entity)).name == "循环水泵房"
    await hub.async_stop()

    stored = json.loads((tmp_path / ".storage" / "core.entity_registry").read_text())
    assert stored["version"] == 1
    assert stored["data"]["entities"][0]["entity_id"] == "sensor.yi_hao_xun_huan_beng_gong_lv"

    renamed = await _hub(tmp_path)
    await renamed.entities.async_add("test", [PumpPower("1# Circulating pump")])
    assert renamed.states.get("sensor.yi_hao_xun_huan_beng_gong_lv").attributes[
        "friendly_name"] == "1# Circulating pump 功率"
    assert len(renamed.states.all()) == 1
    await renamed.async_stop()


async def test_entity_id_collision_gets_suffix(hub: Hub) -> None:
    hub.states.async_set("sensor.yi_hao_xun_huan_beng_gong_lv", "1")
    await hub.entities.async_add("test", [PumpPower("一号循环泵")])
    assert hub.states.get("sensor.yi_hao_xun_huan_beng_gong_lv_2") is not None


async def test_disabled_entity_is_not_added(hub: Hub) -> None:
    await hub.entities.async_add("test", [PumpPower("P")])
    hub.entity_registry.async_update("sensor.p_gong_lv", disabled=True)
    await hub.entities.async_remove("sensor.p_gong_lv")
    assert await hub.entities.async_add("test", [PumpPower("P")]) == []


def test_atomic_write_on_full_disk_keeps_old_file(tiny_tmpfs: Path) -> None:
    target = tiny_tmpfs / "doc.json"
    write_json_atomic(target, {"v": 1})
    with pytest.raises(StorageError, match="disk is full"):
        write_json_atomic(target, {"v": "x" * 64_000})
    assert json.loads(target.read_text()) == {"v": 1}
    assert [path.name for path in tiny_tmpfs.iterdir()] == ["doc.json"]


def test_atomic_write_on_read_only_filesystem_keeps_old_file(tiny_tmpfs: Path) -> None:
    target = tiny_tmpfs / "doc.json"
    write_json_atomic(target, {"v": 1})
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_tmpfs)], check=True)
    with pytest.raises(StorageError, match="read-only"):
        write_json_atomic(target, {"v": 2})
    assert json.loads(target.read_text()) == {"v": 1}


async def test_store_refuses_newer_version_and_migrates_older(hub: Hub) -> None:
    path = hub.path(".storage", "thing")
    write_json_atomic(path, {"version": 3, "minor_version": 1, "key": "thing", "data": {}})
    with pytest.raises(StorageError, match="newer PlantPulse"):
        await Store(hub, "thing", 2).async_load()
    write_json_atomic(path, {"version": 1, "minor_version": 1, "key": "thing", "data": {"a": 1}})

    def migrate(major: int, minor: int, data: dict) -> dict:
        assert (major, minor) == (1, 1)
        return {"a": data["a"], "b": 2}

    assert await Store(hub, "thing", 2, migrate=migrate).async_load() == {"a": 1, "b": 2}


async def test_delayed_save_is_flushed_on_stop(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    store = Store(hub, "later", 1)
    store.async_delay_save(lambda: {"saved": True}, delay=60)
    assert not store.path.exists()
    await hub.async_stop()
    assert json.loads(store.path.read_text())["data"] == {"saved": True}


async def test_registry_events_only_for_real_changes(hub: Hub) -> None:
    events: list[tuple[str, dict]] = []
    for event_type in ("area_registry_updated", "device_registry_updated"):
        hub.bus.async_listen(event_type, lambda e: events.append((e.event_type, dict(e.data))))
    await hub.entities.async_add("test", [PumpPower("一号循环泵")])
    device_id = hub.device_registry.async_get_or_create(
        "test", [("test", "pump1")], "一号循环泵").id
    assert [event[0] for event in events] == ["area_registry_updated", "device_registry_updated"]
    hub.device_registry.async_get_or_create("test", [("test", "pump1")], "1# pump")
    assert events[-1] == ("device_registry_updated", {"action": "update", "device_id": device_id})
