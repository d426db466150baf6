"""Constants of the demo plant integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "demo"

CONF_SPEED: Final = "speed"
CONF_UPDATE_INTERVAL: Final = "update_interval"
CONF_SEED: Final = "seed"
CONF_HISTORY_DAYS: Final = "history_days"

DEFAULT_SPEED: Final = 1.0
DEFAULT_UPDATE_INTERVAL: Final = timedelta(seconds=2)
DEFAULT_SEED: Final = 2026
DEFAULT_HISTORY_DAYS: Final = 0

MIN_SPEED: Final = 0.01
# One simulated hour per real second; faster would make a tick span too much simulated time.
MAX_SPEED: Final = 3600.0
MIN_UPDATE_INTERVAL: Final = timedelta(seconds=0.1)
MAX_UPDATE_INTERVAL: Final = timedelta(seconds=60)
MAX_HISTORY_DAYS: Final = 31

MANUFACTURER: Final = "PlantPulse demo"
ATTR_SIMULATED: Final = "simulated"

STORAGE_KEY: Final = "demo.meters"
STORAGE_VERSION: Final = 1

# Seconds in a minute, an hour and a day, from the standard library rather than restated.
MINUTE: Final = timedelta(minutes=1).total_seconds()
HOUR: Final = timedelta(hours=1).total_seconds()
DAY: Final = timedelta(days=1).total_seconds()

# Meter readings are saved at most this often (and when the hub stops).
SAVE_DELAY: Final = MINUTE
# Longest stretch of simulated time integrated in one trapezoid; longer ticks are subdivided.
MAX_INTEGRATION_STEP: Final = 30.0
# Spacing of back-filled history readings, and the most readings one fill may write per meter.
HISTORY_STEP: Final = 5 * MINUTE
MAX_FILL_STEPS: Final = 2000
# Back-filled times written (every sensor's reading at each) before yielding to the loop.
FILL_CHUNK: Final = 12
# Simulated days of service behind the first readings, so they look like a used meter's.
SERVICE_DAYS: Final = 412.37

# Fast noise: a 20 s grid with a 2-minute correlation time (load jitter, compressor cycling).
FAST_STEP: Final = 20.0
FAST_CORRELATION: Final = 2 * MINUTE
# Slow drift: a 5-minute grid with a 30-minute correlation time (process and weather drift).
SLOW_STEP: Final = 5 * MINUTE
SLOW_CORRELATION: Final = 30 * MINUTE
# The daily swing of base loads (cooling, make-up water) peaks at this local hour.
SWING_PEAK_HOUR: Final = 15.0
