"""Entities of Modbus devices: a sensor per register value, a binary sensor per coil or input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plantpulse.core.coordinator import CoordinatorEntity
from plantpulse.core.entity import DeviceInfo
from plantpulse.core.platforms.binary_sensor import BinarySensorEntity
from plantpulse.core.platforms.sensor import SensorEntity, StateClass
from plantpulse.core.restore_state import RestoreEntity
from plantpulse.integrations.modbus.const import DOMAIN
from plantpulse.integrations.modbus.device import ModbusDevice, Reading
from plantpulse.integrations.modbus.multiplier import ContinuousTotal
from plantpulse.integrations.modbus.spec import ValueSpec

ATTR_RATIO = "ratio"


def _device_info(device: ModbusDevice) -> DeviceInfo:
    info = DeviceInfo(identifiers=[(DOMAIN, device.unique_prefix)], name=device.name)
    if device.manufacturer:
        info["manufacturer"] = device.manufacturer
    if device.model:
        info["model"] = device.model
    return info


class ModbusSensor(CoordinatorEntity[Reading], RestoreEntity, SensorEntity):
    """A number read from registers, multiplied by the transformer ratio in force."""

    _attr_has_entity_name = True

    def __init__(self, device: ModbusDevice, value: ValueSpec, language: str) -> None:
        super().__init__(device.coordinator)
        self.device = device
        self.value = value
        self._attr_name = value.name(language)
        self._attr_unique_id = f"{device.unique_prefix}_{value.key}"
        self._attr_device_info = _device_info(device)
        self._attr_device_class = value.device_class
        self._attr_native_unit_of_measurement = value.unit
        self._attr_state_class = StateClass(value.state_class) if value.state_class else None
        self._attr_suggested_display_precision = value.precision
        self._total = ContinuousTotal() if value.cumulative else None
        self._ratio = 1.0

    async def async_added_to_hub(self) -> None:
        await CoordinatorEntity.async_added_to_hub(self)
        if self._total is not None:
            await RestoreEntity.async_added_to_hub(self)
            if stored := await self.async_get_last_extra_data():
                self._total.restore(stored)

    @property
    def extra_restore_data(self) -> dict[str, Any] | None:
        return self._total.as_dict() if self._total is not None else None

    @property
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        return {ATTR_RATIO: self._ratio} if self.value.multiplier != "none" else None

    def _handle_update(self) -> None:
        data = self.coordinator.data
        raw = data.get(self.value.key) if data and self.coordinator.last_update_success else None
        if raw is None or isinstance(raw, bool):
            self._attr_native_value = None if raw is None else raw
        else:
            read_at = self.device.read_at or self.hub.clock.time()
            self._ratio = self.device.ratios.at(read_at).factor(self.value.multiplier)
            if self._total is not None:
                self._attr_native_value = self._total.value(raw, self._ratio)
            elif self._ratio != 1.0:
                self._attr_native_value = raw * self._ratio
            else:
                self._attr_native_value = raw
        self.async_write_state()


class ModbusBinarySensor(CoordinatorEntity[Reading], BinarySensorEntity):
    """A coil or discrete input: on when set."""

    _attr_has_entity_name = True

    def __init__(self, device: ModbusDevice, value: ValueSpec, language: str) -> None:
        super().__init__(device.coordinator)
        self.value = value
        self._attr_name = value.name(language)
        self._attr_unique_id = f"{device.unique_prefix}_{value.key}"
        self._attr_device_info = _device_info(device)
        self._attr_device_class = value.device_class

    def _handle_update(self) -> None:
        data = self.coordinator.data
        bit = data.get(self.value.key) if data and self.coordinator.last_update_success else None
        self._attr_is_on = None if bit is None else bool(bit)
        self.async_write_state()


def build_entities(device: ModbusDevice, language: str) -> list[SensorEntity | BinarySensorEntity]:
    """Every entity of `device`."""
    return [
        ModbusBinarySensor(device, value, language) if value.is_bit
        else ModbusSensor(device, value, language)
        for value in device.values
    ]
