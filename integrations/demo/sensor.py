"""The demo plant's sensors: a rate and a running total per meter, named in the site language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final

from plantpulse.core.entity import DeviceInfo
from plantpulse.core.platforms.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    StateClass,
)
from plantpulse.integrations.demo.const import ATTR_SIMULATED, DOMAIN, MANUFACTURER
from plantpulse.integrations.demo.plant import Kind, Meter, Names, Plant


@dataclass(frozen=True)
class Quantity:
    """A sensor every meter of a kind has: its rate, or its running total (`total`)."""

    key: str
    names: Names
    device_class: SensorDeviceClass
    state_class: StateClass
    unit: str
    precision: int
    total: bool

    def describe(self, language: str) -> SensorEntityDescription:
        """The entity description, named in the site language."""
        return SensorEntityDescription(
            key=self.key,
            name=self.names.pick(language),
            device_class=str(self.device_class),
            state_class=self.state_class,
            native_unit_of_measurement=self.unit,
            suggested_display_precision=self.precision,
        )


_FLOW: Final = Quantity("flow", Names("流量", "Flow"), SensorDeviceClass.VOLUME_FLOW_RATE,
                        StateClass.MEASUREMENT, "m³/h", 2, total=False)

QUANTITIES: Final[dict[Kind, tuple[Quantity, ...]]] = {
    Kind.ELECTRICITY: (
        Quantity("power", Names("功率", "Power"), SensorDeviceClass.POWER,
                 StateClass.MEASUREMENT, "kW", 2, total=False),
        Quantity("energy", Names("电量", "Energy"), SensorDeviceClass.ENERGY,
                 StateClass.TOTAL_INCREASING, "kWh", 2, total=True),
    ),
    Kind.GAS: (
        _FLOW,
        Quantity("volume", Names("用量", "Volume"), SensorDeviceClass.GAS,
                 StateClass.TOTAL_INCREASING, "m³", 3, total=True),
    ),
    Kind.WATER: (
        _FLOW,
        Quantity("volume", Names("用量", "Volume"), SensorDeviceClass.WATER,
                 StateClass.TOTAL_INCREASING, "m³", 3, total=True),
    ),
    Kind.PRODUCTION: (
        Quantity("output", Names("产量", "Output"), SensorDeviceClass.WEIGHT,
                 StateClass.TOTAL_INCREASING, "t", 3, total=True),
    ),
}


class DemoSensor(SensorEntity):
    """One simulated value; the plant's update loop sets it and writes the state."""

    _attr_has_entity_name = True
    _attr_extra_state_attributes: Mapping[str, Any] = MappingProxyType({ATTR_SIMULATED: True})

    def __init__(self, plant: Plant, meter: Meter, quantity: Quantity, language: str) -> None:
        device = plant.device(meter.device)
        self.meter_key = meter.key
        self.quantity = quantity
        self.entity_description = quantity.describe(language)
        # Stable and language-independent: `demo_pump_1_power`, `demo_grinding_line_output`.
        self._attr_unique_id = f"{DOMAIN}_{device.key}_{quantity.key}"
        self._attr_device_info = DeviceInfo(
            identifiers=[(DOMAIN, device.key)],
            name=device.names.pick(language),
            manufacturer=MANUFACTURER,
            model=device.model.pick(language),
            suggested_area=plant.areas[device.area].pick(language),
        )

    def set_value(self, value: float | None) -> None:
        """Take a new value; the caller writes the state."""
        self._attr_native_value = value

    def async_write_reading(self, value: float, measured_at: datetime) -> None:
        """Write a past reading (back-filled history) without changing the live value."""
        live = self._attr_native_value
        self._attr_native_value = value
        try:
            self.async_write_state(measured_at)
        finally:
            self._attr_native_value = live


def build_sensors(plant: Plant, language: str) -> list[DemoSensor]:
    """Every sensor of the plant: for each meter its rate (if it has one) and its total."""
    return [
        DemoSensor(plant, meter, quantity, language)
        for meter in plant.meters
        for quantity in QUANTITIES[meter.kind]
    ]
