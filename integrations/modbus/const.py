"""Constants of the Modbus integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "modbus"

TYPE_TCP: Final = "tcp"
TYPE_RTU_OVER_TCP: Final = "rtuovertcp"
TYPE_SERIAL: Final = "serial"
TYPES: Final = (TYPE_TCP, TYPE_RTU_OVER_TCP, TYPE_SERIAL)

DEFAULT_TCP_PORT: Final = 502
DEFAULT_SCAN_INTERVAL: Final = timedelta(seconds=5)
DEFAULT_TIMEOUT: Final = timedelta(seconds=2)
DEFAULT_RETRIES: Final = 0
DEFAULT_BAUDRATE: Final = 9600

# Which transformer ratio scales a value: current by the CT, voltage by the PT, power and
# energy by both (倍率 = CT × PT), and none for power factor, frequency and the like.
MULTIPLIERS: Final = ("none", "ct", "pt", "ct_pt")

# Built-in meter profiles ship in `profiles/`; a site adds or overrides in this folder.
PROFILES_DIR: Final = "profiles"
USER_PROFILES_DIR: Final = "modbus_profiles"
