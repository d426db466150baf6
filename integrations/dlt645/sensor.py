"""DL/T 645 meters as sensors: one poller per meter reads its data items, one sensor per item."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from plantpulse.core.coordinator import Coordinator, CoordinatorEntity, UpdateFailed
from plantpulse.core.entity import DeviceInfo
from plantpulse.core.platforms.sensor import SensorEntity, SensorEntityDescription
from plantpulse.integrations.dlt645.client import Dlt645Client, MeterError, MeterTimeout
from plantpulse.integrations.dlt645.const import (
    ATTR_ADDRESS,
    ATTR_DATA_IDENTIFIER,
    DOMAIN,
    MANUFACTURER,
    MODEL,
)
from plantpulse.integrations.dlt645.data import DataError, DataItem, Scale, decode_timestamp

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

# The time of frozen data not read yet: the earliest a YYMMDDhhmm time can say. Frozen sensors
# carry their freeze time on every state, so a first reading is never "older" than the state
# written before it.
NOT_FROZEN_YET = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Reading:
    """A value read from a meter, scaled to the primary side; `measured_at` for frozen data."""

    value: float
    measured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MeterSpec:
    """A configured meter: where it is and what to read."""

    name: str
    address: str
    items: tuple[DataItem, ...]
    ct_ratio: float = 1.0
    pt_ratio: float = 1.0

    def factor(self, scale: Scale) -> float:
        """The multiplier from secondary-side to primary-side values."""
        if scale is Scale.CURRENT:
            return self.ct_ratio
        if scale is Scale.VOLTAGE:
            return self.pt_ratio
        if scale is Scale.POWER:
            return self.ct_ratio * self.pt_ratio
        return 1.0


class MeterPoller:
    """Reads every data item of one meter; the coordinator calls it and handles backoff.

    No answer at all fails the whole meter (its sensors go unavailable); a refused or damaged
    item only makes that item's sensor unavailable, unless every item fails.
    """

    def __init__(self, hub: Hub, client: Dlt645Client, meter: MeterSpec) -> None:
        self.hub = hub
        self.client = client
        self.meter = meter
        self.failing: dict[str, str] = {}

    async def async_update(self) -> dict[str, Reading]:
        """The meter's readings now; raises UpdateFailed when it does not answer."""
        readings: dict[str, Reading] = {}
        failures: dict[str, str] = {}
        for item in self.meter.items:
            try:
                readings[item.key] = await self._async_read(item)
            except MeterTimeout as err:
                raise UpdateFailed(str(err)) from None
            except (MeterError, DataError) as err:
                failures[item.key] = f"{item.identifier:08X}: {err}"
        self._log_changes(failures)
        if not readings:
            raise UpdateFailed(
                f"meter {self.meter.name} ({self.meter.address}) answered but gave no data: "
                + "; ".join(failures.values())
            )
        return readings

    async def _async_read(self, item: DataItem) -> Reading:
        payload = await self.client.async_read(self.meter.address, item.identifier)
        value = round(item.decode(payload) * self.meter.factor(item.scale), item.format.decimals)
        measured_at = None
        if item.time_identifier is not None:
            stamp = await self.client.async_read(self.meter.address, item.time_identifier)
            measured_at = decode_timestamp(stamp, self.hub.site.tz)
        return Reading(value, measured_at)

    def _log_changes(self, failures: dict[str, str]) -> None:
        for key, message in failures.items():
            if key not in self.failing:
                _LOGGER.warning("Meter %s: cannot read %s", self.meter.name, message)
        for key in self.failing.keys() - failures.keys():
            _LOGGER.info("Meter %s: %s readable again", self.meter.name, key)
        self.failing = failures


class Dlt645Sensor(CoordinatorEntity[dict[str, Reading]], SensorEntity):
    """One data item of one meter."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: Coordinator[dict[str, Reading]], meter: MeterSpec,
                 item: DataItem, language: str) -> None:
        super().__init__(coordinator)
        self.item = item
        self.entity_description = SensorEntityDescription(
            key=item.key,
            name=item.name(language),
            device_class=str(item.device_class) if item.device_class else None,
            state_class=item.state_class,
            native_unit_of_measurement=item.unit,
            suggested_display_precision=item.format.decimals,
        )
        self._attr_unique_id = f"{meter.address}_{item.key}"
        self._attr_device_info = DeviceInfo(
            identifiers=[(DOMAIN, meter.address)], name=meter.name, manufacturer=MANUFACTURER,
            model=MODEL, serial_number=meter.address,
        )
        self._attr_extra_state_attributes = {
            ATTR_ADDRESS: meter.address, ATTR_DATA_IDENTIFIER: f"{item.identifier:08X}",
        }
        if item.time_identifier is not None:
            self._attr_measured_at = NOT_FROZEN_YET

    @property
    def _reading(self) -> Reading | None:
        data = self.coordinator.data
        return data.get(self.item.key) if data is not None else None

    @property
    def available(self) -> bool:
        return super().available and self._reading is not None

    @property
    def native_value(self) -> Any:
        reading = self._reading
        return reading.value if reading is not None else None

    def _handle_update(self) -> None:
        reading = self._reading
        if reading is not None and reading.measured_at is not None:
            self._attr_measured_at = reading.measured_at
        self.async_write_state()

    def async_write_state(self, measured_at: datetime | None = None) -> None:
        # Frozen data: every state, unavailable too, carries the time of its freeze.
        super().async_write_state(measured_at or self._attr_measured_at)


def build_sensors(coordinator: Coordinator[dict[str, Reading]], meter: MeterSpec,
                  language: str) -> Sequence[Dlt645Sensor]:
    """The sensors of one meter."""
    return [Dlt645Sensor(coordinator, meter, item, language) for item in meter.items]
