"""Sensors of each tariff's current period and price, switching at the edges on the hub clock.

`sensor.<tariff>_period` (state `sharp`/`peak`/`flat`/`valley`/`deep_valley`, attribute
`next_change`) and `sensor.<tariff>_price` (currency per kWh). Each sets a timer for the next
change of period or price (a new day, a new tariff version) and updates then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from plantpulse.core.platforms.sensor import SensorDeviceClass, SensorEntity
from plantpulse.integrations.energy.const import PERIOD_NAMES_ZH, Period
from plantpulse.integrations.energy.tariff import Tariff, TariffError

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub


class TariffClock:
    """Follows one tariff on the hub clock and updates its sensors at each change."""

    def __init__(self, hub: Hub, tariff: Tariff) -> None:
        self.hub = hub
        self.tariff = tariff
        self.period: Period | None = None
        self.price: float | None = None
        self.next_change: str | None = None
        self.sensors: list[SensorEntity] = []
        self._cancel: Callable[[], None] | None = None

    def read(self) -> datetime:
        """Read the tariff at the hub's now; returns when it changes next."""
        zone = self.hub.site.tz
        try:
            self.period, self.price, change = self.tariff.at(self.hub.clock.now(), zone)
        except TariffError:  # before the first version: nothing until it starts
            self.period = self.price = None
            first = self.tariff.versions[0].valid_from
            change = datetime(first.year, first.month, first.day, tzinfo=zone)
        self.next_change = change.isoformat()
        return change

    def async_follow(self, change: datetime) -> None:
        """Update the sensors at `change`, and so on at every change after it."""
        self._cancel = self.hub.async_call_at(change, self._async_changed,
                                              f"tariff {self.tariff.name} change")

    def _async_changed(self) -> None:
        change = self.read()
        for sensor in self.sensors:
            sensor.async_write_state()
        self.async_follow(change)

    def async_stop(self) -> None:
        """Cancel the pending timer."""
        if self._cancel is not None:
            self._cancel()
            self._cancel = None


class TariffPeriodSensor(SensorEntity):
    """The period a tariff is in now."""

    _attr_icon = "mdi:clock-time-four-outline"

    def __init__(self, clock: TariffClock) -> None:
        self._clock = clock
        self._attr_unique_id = f"energy_tariff_{clock.tariff.name}_period"
        self._attr_name = f"{clock.tariff.name} period"

    @property
    def native_value(self) -> str | None:
        return None if self._clock.period is None else self._clock.period.value

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        period = self._clock.period
        return {
            "tariff": self._clock.tariff.name,
            "name_zh": PERIOD_NAMES_ZH[period] if period else None,
            "price": self._clock.price,
            "next_change": self._clock.next_change,
            "options": [item.value for item in Period],
        }


class TariffPriceSensor(SensorEntity):
    """The price a tariff charges now, per kWh."""

    _attr_device_class = SensorDeviceClass.MONETARY
    _attr_icon = "mdi:cash"

    def __init__(self, clock: TariffClock, currency: str) -> None:
        self._clock = clock
        self._attr_unique_id = f"energy_tariff_{clock.tariff.name}_price"
        self._attr_name = f"{clock.tariff.name} price"
        self._attr_native_unit_of_measurement = f"{currency}/kWh"

    @property
    def native_value(self) -> float | None:
        return self._clock.price

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        period = self._clock.period
        return {"tariff": self._clock.tariff.name,
                "period": period.value if period else None,
                "next_change": self._clock.next_change}
