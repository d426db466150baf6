"""Constants of the DL/T 645-2007 meter integration."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

DOMAIN: Final = "dlt645"

CONF_NAME: Final = "name"
CONF_TYPE: Final = "type"
CONF_HOST: Final = "host"
CONF_PORT: Final = "port"
CONF_DEVICE: Final = "device"
CONF_BAUDRATE: Final = "baudrate"
CONF_PARITY: Final = "parity"
CONF_BYTESIZE: Final = "bytesize"
CONF_STOPBITS: Final = "stopbits"
CONF_SCAN_INTERVAL: Final = "scan_interval"
CONF_TIMEOUT: Final = "timeout"
CONF_WAKE_UP: Final = "wake_up"
CONF_METERS: Final = "meters"
CONF_ADDRESS: Final = "address"
CONF_CT_RATIO: Final = "ct_ratio"
CONF_PT_RATIO: Final = "pt_ratio"
CONF_DATA: Final = "data"

TYPE_TCP: Final = "tcp"
TYPE_SERIAL: Final = "serial"

DEFAULT_SCAN_INTERVAL: Final = timedelta(seconds=15)
DEFAULT_TIMEOUT: Final = timedelta(seconds=1)
# Current DL/T 645-2007 meters default to 2400 baud, 8 data bits, even parity, 1 stop bit.
DEFAULT_BAUDRATE: Final = 2400
DEFAULT_PARITY: Final = "E"
DEFAULT_BYTESIZE: Final = 8
DEFAULT_STOPBITS: Final = 1
# A gateway that does not accept a connection within this time counts as not answering.
CONNECT_TIMEOUT: Final = 5.0

MANUFACTURER: Final = "DL/T 645-2007"
MODEL: Final = "DL/T 645-2007 meter"
ATTR_ADDRESS: Final = "meter_address"
ATTR_DATA_IDENTIFIER: Final = "data_identifier"
