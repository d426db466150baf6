"""The demo plant's runner: its own timer advances simulated time and writes every sensor."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from plantpulse.core.const import EVENT_HUB_STARTED, HubState
from plantpulse.integrations.demo.const import DOMAIN, MAX_INTEGRATION_STEP, SAVE_DELAY
from plantpulse.integrations.demo.history import FillPlan, async_fill
from plantpulse.integrations.demo.sensor import DemoSensor
from plantpulse.integrations.demo.simulation import (
    PlantSimulation,
    Rates,
    SimClock,
    integrate,
    time_grid,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub
    from plantpulse.core.storage import Store

_LOGGER = logging.getLogger(__name__)


class PlantRunner:
    """Runs the simulated plant in (scaled) real time.

    Each tick integrates every meter's rate since the last tick into the running totals (in
    trapezoids of at most MAX_INTEGRATION_STEP, in the executor) and writes all sensors at
    once. Totals are saved to `.storage` so readings never go backwards across restarts;
    while a downtime gap is being integrated (`readings_ready` False) the total sensors show
    unknown rather than a reading that would later jump back.
    """

    def __init__(
        self,
        hub: Hub,
        simulation: PlantSimulation,
        clock: SimClock,
        readings: Mapping[str, float],
        store: Store,
        update_interval: timedelta,
        readings_ready: bool = True,
    ) -> None:
        self.hub = hub
        self.simulation = simulation
        self.clock = clock
        self.update_interval = update_interval
        self.time = clock.sim_start
        self.rates: Rates = simulation.rates(self.time)
        self.readings: Rates = dict(readings)
        self.readings_ready = readings_ready
        self.sensors: list[DemoSensor] = []
        self._store = store
        self._cancel_interval: Callable[[], None] | None = None
        self._cancel_fill_listener: Callable[[], None] | None = None
        self._fill_task: asyncio.Task[None] | None = None
        # One advance at a time: the simulation's noise caches must not be shared by threads.
        self._advancing = asyncio.Lock()
        self._stopped = False

    @property
    def running(self) -> bool:
        """Whether the update loop is scheduled."""
        return self._cancel_interval is not None

    async def async_add_sensors(self, sensors: list[DemoSensor]) -> None:
        """Add the sensors to the hub with their first values; feed only those it accepted.

        The hub leaves out a sensor whose registry entry is disabled (or whose id is taken);
        a sensor removed later drops out of the plant's list too.
        """
        self._set_values(sensors)
        added = await self.hub.entities.async_add(DOMAIN, sensors)
        self.sensors = [sensor for sensor in added if isinstance(sensor, DemoSensor)]
        for sensor in self.sensors:
            sensor.async_on_remove(partial(self.sensors.remove, sensor))
        self._schedule_save()

    def async_start(self) -> None:
        """Start the update loop."""
        if self._cancel_interval is None:
            self._cancel_interval = self.hub.async_track_interval(
                self.async_update, self.update_interval, "demo plant update"
            )

    def async_fill_after_start(self, plan: FillPlan) -> None:
        """Fill history in the background once the hub runs, so it never slows boot."""
        if self.hub.state is HubState.RUNNING:
            self._start_fill(plan)
        else:
            self._cancel_fill_listener = self.hub.bus.async_listen_once(
                EVENT_HUB_STARTED, lambda _event: self._start_fill(plan)
            )

    def _start_fill(self, plan: FillPlan) -> None:
        self._cancel_fill_listener = None
        _LOGGER.debug("Filling simulated history from %s to %s", plan.begin, plan.end)
        self._fill_task = self.hub.async_create_task(async_fill(self, plan), "demo history fill")

    def async_stop(self) -> None:
        """Stop the update loop and any history fill; save the readings."""
        self._stopped = True
        if self._cancel_interval is not None:
            self._cancel_interval()
            self._cancel_interval = None
        if self._cancel_fill_listener is not None:
            self._cancel_fill_listener()
            self._cancel_fill_listener = None
        if self._fill_task is not None:
            self._fill_task.cancel()
            self._fill_task = None
        self._schedule_save()

    async def async_update(self) -> None:
        """One tick: advance to the clock's current simulated time."""
        await self.async_advance(self.clock.now())

    async def async_advance(self, time: float) -> None:
        """Advance the plant to simulated `time`, integrate the totals, write every sensor.

        A time not after the current one is ignored: simulated time never runs backwards. The
        integration runs in the executor (at high speed one tick spans hours); a result that
        arrives after stop is dropped, so the readings saved at stop are the last ones shown.
        """
        async with self._advancing:
            if time <= self.time or self._stopped:
                return
            times = time_grid(self.time, time, MAX_INTEGRATION_STEP)
            rates, amounts = await self.hub.async_add_executor_job(
                integrate, self.simulation, times, self.rates
            )
            if self._stopped:
                return
            self.time, self.rates = time, rates
            self._count(amounts)
            self._set_values(self.sensors)
            for sensor in self.sensors:
                sensor.async_write_state()
            self._schedule_save()

    def async_add_gap(self, amounts: Mapping[str, float]) -> None:
        """Add what the meters counted while the hub was down; the totals are then ready."""
        self._count(amounts)
        self.readings_ready = True
        self._set_values(self.sensors)
        for sensor in self.sensors:
            if sensor.quantity.total:
                sensor.async_write_state()
        self._schedule_save()

    def _count(self, amounts: Mapping[str, float]) -> None:
        for key, amount in amounts.items():
            self.readings[key] = self.readings.get(key, 0.0) + amount

    def _set_values(self, sensors: list[DemoSensor]) -> None:
        for sensor in sensors:
            if sensor.quantity.total:
                sensor.set_value(self.readings[sensor.meter_key] if self.readings_ready else None)
            else:
                sensor.set_value(self.rates[sensor.meter_key])

    def _schedule_save(self) -> None:
        if self.readings_ready:
            self._store.async_delay_save(self._stored_data, SAVE_DELAY)

    def _stored_data(self) -> dict[str, Any]:
        return {"time": self.time, "readings": dict(self.readings)}
