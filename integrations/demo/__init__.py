"""Demo plant (simulated): the embedded default plant a new hub starts on.

Thirteen electricity meters in a balanced tree, a gas and a water meter and three production
counters, with shift-shaped loads and noise, reproducing the source deck's energy cases (see
`plant.py`). Everything is simulated and says so: the device manufacturer is "PlantPulse demo",
models say "simulated", and every state has the attribute `simulated: true`.

    demo:
      speed: 1            # simulated seconds per real second (60 = a minute per second)
      update_interval: 2  # seconds between updates of all values
      seed: 2026          # same seed, same values
      history_days: 2     # days of simulated history written at the first start
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.hub import StopStage
from plantpulse.core.storage import Store
from plantpulse.integrations.demo.const import (
    CONF_HISTORY_DAYS,
    CONF_SEED,
    CONF_SPEED,
    CONF_UPDATE_INTERVAL,
    DAY,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_SEED,
    DEFAULT_SPEED,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    MAX_HISTORY_DAYS,
    MAX_SPEED,
    MAX_UPDATE_INTERVAL,
    MIN_SPEED,
    MIN_UPDATE_INTERVAL,
    SERVICE_DAYS,
    STORAGE_KEY,
    STORAGE_VERSION,
)
from plantpulse.integrations.demo.history import FillPlan
from plantpulse.integrations.demo.plant import PLANT
from plantpulse.integrations.demo.runner import PlantRunner
from plantpulse.integrations.demo.sensor import build_sensors
from plantpulse.integrations.demo.simulation import PlantSimulation, SimClock

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA: Final = cv.empty_means_defaults(vol.Schema({
    vol.Optional(CONF_SPEED, default=DEFAULT_SPEED): vol.All(
        vol.Coerce(float),
        vol.Range(min=MIN_SPEED, max=MAX_SPEED, msg=(
            f"must be between {MIN_SPEED:g} and {MAX_SPEED:g} (1 is real time, 60 runs a "
            "simulated minute per second)"
        )),
    ),
    vol.Optional(CONF_UPDATE_INTERVAL, default=DEFAULT_UPDATE_INTERVAL): vol.All(
        cv.positive_time_period,
        vol.Range(min=MIN_UPDATE_INTERVAL, max=MAX_UPDATE_INTERVAL, msg=(
            f"must be between {MIN_UPDATE_INTERVAL.total_seconds():g} and "
            f"{MAX_UPDATE_INTERVAL.total_seconds():g} seconds"
        )),
    ),
    vol.Optional(CONF_SEED, default=DEFAULT_SEED): vol.All(
        vol.Coerce(int), vol.Range(min=0, msg="must be a whole number, 0 or more"),
    ),
    vol.Optional(CONF_HISTORY_DAYS, default=DEFAULT_HISTORY_DAYS): vol.All(
        vol.Coerce(int),
        vol.Range(min=0, max=MAX_HISTORY_DAYS,
                  msg=f"must be a whole number of days from 0 to {MAX_HISTORY_DAYS}"),
    ),
}))


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create the plant's sensors and start its update loop; history fills after start."""
    store = Store(hub, STORAGE_KEY, STORAGE_VERSION)
    stored = _stored_readings(await store.async_load())
    simulation = PlantSimulation(config[CONF_SEED], hub.site.tz)
    clock = SimClock.starting_now(config[CONF_SPEED], hub.clock.time)
    start = clock.sim_start
    # History is only worth writing when a recorder keeps it.
    history = config[CONF_HISTORY_DAYS] * DAY if "recorder" in hub.config else 0.0
    readings = await hub.async_add_executor_job(
        simulation.initial_readings, start, SERVICE_DAYS
    )
    plan: FillPlan | None = None
    if stored is None:
        if history:
            plan = FillPlan(start - history, start, dict(readings), True, start - history)
    else:
        saved_at, saved = stored
        readings.update((key, value) for key, value in saved.items() if key in readings)
        if saved_at < start:
            write_from = max(saved_at, start - history) if history else None
            plan = FillPlan(saved_at, start, dict(readings), False, write_from)

    runner = PlantRunner(hub, simulation, clock, readings, store, config[CONF_UPDATE_INTERVAL],
                         readings_ready=plan is None or plan.known_at_end)
    await runner.async_add_sensors(build_sensors(PLANT, hub.site.language))
    hub.data[DOMAIN] = runner
    runner.async_start()
    hub.async_on_stop(runner.async_stop, StopStage.INTEGRATIONS)
    if plan is not None:
        runner.async_fill_after_start(plan)
    _LOGGER.info("Demo plant (simulated) running with %d sensors at speed %g",
                 len(runner.sensors), config[CONF_SPEED])
    return True


def _stored_readings(data: Any) -> tuple[float, dict[str, float]] | None:
    """The saved simulated time and readings, or None when there are none (or they are odd)."""
    if data is None:
        return None
    saved_at = data.get("time") if isinstance(data, Mapping) else None
    readings = data.get("readings") if isinstance(data, Mapping) else None
    if not isinstance(saved_at, int | float) or not isinstance(readings, Mapping):
        _LOGGER.warning("Ignoring unreadable saved demo meter readings; the meters start afresh")
        return None
    return float(saved_at), {
        str(key): float(value) for key, value in readings.items()
        if isinstance(value, int | float)
    }
