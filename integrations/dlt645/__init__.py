"""DL/T 645-2007 electricity meters over RS-485 or a TCP transparent gateway.

    dlt645:
      - name: 2号变压器 网关
        type: tcp                 # or serial (device: /dev/ttyUSB0, baudrate: 2400, parity: E)
        host: 10.0.0.20
        port: 8899
        scan_interval: 15         # seconds between readings of each meter
        timeout: 1                # seconds a meter has to answer
        wake_up: true             # send FE FE FE FE before each request
        meters:
          - name: 杨36线 总柜
            address: "000012345678"
            ct_ratio: 200         # readings × CT × PT where the meter reports secondary values
            pt_ratio: 1
            data: [energy_total, energy_import_tariffs, voltage, current, power,
                   power_factor, frequency]

Data groups: energy_total (00000000), energy_import (00010000), energy_import_tariffs
(00010100..00010400: sharp, peak, flat, valley), energy_export (00020000), voltage, current
(02010100.., 02020100..), power (02030000), reactive_power (02040000), apparent_power
(02050000), power_factor (02060000), frequency (02800002) and daily_frozen (05060101 with its
freeze time 05060001: the state carries the meter's time, so it lands in the right period).
Meters on one gateway are read one at a time; each meter has its own backoff, so a meter that
stops answering makes only its own sensors unavailable.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.coordinator import Coordinator
from plantpulse.core.hub import StopStage
from plantpulse.integrations.dlt645.client import Dlt645Client
from plantpulse.integrations.dlt645.const import (
    CONF_ADDRESS,
    CONF_BAUDRATE,
    CONF_BYTESIZE,
    CONF_CT_RATIO,
    CONF_DATA,
    CONF_DEVICE,
    CONF_HOST,
    CONF_METERS,
    CONF_NAME,
    CONF_PARITY,
    CONF_PORT,
    CONF_PT_RATIO,
    CONF_SCAN_INTERVAL,
    CONF_STOPBITS,
    CONF_TIMEOUT,
    CONF_TYPE,
    CONF_WAKE_UP,
    CONNECT_TIMEOUT,
    DEFAULT_BAUDRATE,
    DEFAULT_BYTESIZE,
    DEFAULT_PARITY,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_STOPBITS,
    DEFAULT_TIMEOUT,
    DOMAIN,
    TYPE_SERIAL,
    TYPE_TCP,
)
from plantpulse.integrations.dlt645.data import DEFAULT_GROUPS, GROUPS, items_of
from plantpulse.integrations.dlt645.frame import normalize_address
from plantpulse.integrations.dlt645.sensor import MeterPoller, MeterSpec, Reading, build_sensors
from plantpulse.integrations.dlt645.transport import (
    SerialTransport,
    TcpTransport,
    Transport,
    baud_constant,
)

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Dlt645Data:
    """What the integration keeps in `hub.data["dlt645"]`."""

    coordinators: list[Coordinator[dict[str, Reading]]]
    # Done when every meter was read once (or failed to answer).
    first_readings: asyncio.Task[None]


def _address(value: Any) -> str:
    try:
        return normalize_address(value)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None


def _baudrate(value: Any) -> int:
    rate = vol.Coerce(int)(value)
    try:
        baud_constant(rate)
    except ValueError as err:
        raise vol.Invalid(str(err)) from None
    return rate


def _ratio(value: Any) -> float:
    return vol.All(vol.Coerce(float), vol.Range(
        min=0, min_included=False, msg="must be a number above 0 (e.g. 200 for a 1000/5 CT)",
    ))(value)


def _data_group(value: Any) -> str:
    text = cv.string(value)
    if text not in GROUPS:
        raise vol.Invalid(f"unknown data group {text!r}: use {', '.join(GROUPS)}")
    return text


METER_SCHEMA: Final = vol.Schema({
    vol.Required(CONF_NAME): cv.string,
    vol.Required(CONF_ADDRESS): _address,
    vol.Optional(CONF_CT_RATIO, default=1.0): _ratio,
    vol.Optional(CONF_PT_RATIO, default=1.0): _ratio,
    vol.Optional(CONF_DATA, default=list(DEFAULT_GROUPS)): vol.All(
        cv.ensure_list, vol.Length(min=1, msg="name at least one data group"), [_data_group],
    ),
})


def _transport_settings(config: dict[str, Any]) -> dict[str, Any]:
    if config[CONF_TYPE] == TYPE_TCP:
        if CONF_HOST not in config:
            raise vol.Invalid("a tcp gateway needs 'host' (and 'port')", path=[CONF_HOST])
        port = config.get(CONF_PORT)
        if port is None:
            raise vol.Invalid("a tcp gateway needs 'port', e.g. 8899", path=[CONF_PORT])
        config[CONF_PORT] = cv.port(port)
    elif CONF_DEVICE not in config:
        raise vol.Invalid("a serial bus needs 'device', e.g. /dev/ttyUSB0", path=[CONF_DEVICE])
    return config


GATEWAY_SCHEMA: Final = vol.All(vol.Schema({
    vol.Required(CONF_NAME): cv.string,
    vol.Required(CONF_TYPE): vol.In((TYPE_TCP, TYPE_SERIAL), msg="must be tcp or serial"),
    vol.Optional(CONF_HOST): cv.string,
    vol.Optional(CONF_PORT): vol.Any(int, cv.string),
    vol.Optional(CONF_DEVICE): cv.string,
    vol.Optional(CONF_BAUDRATE, default=DEFAULT_BAUDRATE): _baudrate,
    vol.Optional(CONF_PARITY, default=DEFAULT_PARITY): vol.In(
        ("N", "E", "O"), msg="must be E (even, the standard's), O or N"),
    vol.Optional(CONF_BYTESIZE, default=DEFAULT_BYTESIZE): vol.In((7, 8), msg="must be 7 or 8"),
    vol.Optional(CONF_STOPBITS, default=DEFAULT_STOPBITS): vol.In((1, 2), msg="must be 1 or 2"),
    vol.Optional(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): cv.positive_time_period,
    vol.Optional(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): cv.positive_time_period,
    vol.Optional(CONF_WAKE_UP, default=True): cv.boolean,
    vol.Required(CONF_METERS): vol.All(
        cv.ensure_list, vol.Length(min=1, msg="list at least one meter"), [METER_SCHEMA],
    ),
}), _transport_settings)


def _unique_addresses(gateways: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A meter address is its identity: the same address twice would mix two meters' data."""
    seen: dict[str, str] = {}
    for index, gateway in enumerate(gateways):
        for number, meter in enumerate(gateway[CONF_METERS]):
            address = meter[CONF_ADDRESS]
            if address in seen:
                raise vol.Invalid(
                    f"meter address {address} is already used by {seen[address]!r}; each "
                    "meter needs its own address",
                    path=[index, CONF_METERS, number, CONF_ADDRESS],
                )
            seen[address] = meter[CONF_NAME]
    return gateways


CONFIG_SCHEMA: Final = vol.All(cv.ensure_list, [GATEWAY_SCHEMA], _unique_addresses)


def _transport(config: dict[str, Any]) -> Transport:
    if config[CONF_TYPE] == TYPE_TCP:
        return TcpTransport(config[CONF_HOST], config[CONF_PORT], CONNECT_TIMEOUT)
    return SerialTransport(config[CONF_DEVICE], config[CONF_BAUDRATE], config[CONF_PARITY],
                           config[CONF_BYTESIZE], config[CONF_STOPBITS])


async def async_setup(hub: Hub, config: list[dict[str, Any]]) -> bool:
    """Create a client per bus and a poller, coordinator and sensors per meter."""
    clients: list[Dlt645Client] = []
    coordinators: list[Coordinator[dict[str, Reading]]] = []
    for gateway in config:
        timeout: timedelta = gateway[CONF_TIMEOUT]
        client = Dlt645Client(_transport(gateway), timeout.total_seconds(), gateway[CONF_WAKE_UP])
        clients.append(client)
        for meter_config in gateway[CONF_METERS]:
            meter = MeterSpec(
                meter_config[CONF_NAME], meter_config[CONF_ADDRESS],
                items_of(meter_config[CONF_DATA]), meter_config[CONF_CT_RATIO],
                meter_config[CONF_PT_RATIO],
            )
            poller = MeterPoller(hub, client, meter)
            coordinator: Coordinator[dict[str, Reading]] = Coordinator(
                hub, f"{gateway[CONF_NAME]} / {meter.name} ({meter.address})",
                poller.async_update, gateway[CONF_SCAN_INTERVAL],
            )
            coordinators.append(coordinator)
            await hub.entities.async_add(DOMAIN, build_sensors(
                coordinator, meter, hub.site.language))

    async def async_close() -> None:
        for client in clients:
            await client.async_close()

    async def async_first_readings() -> None:
        await asyncio.gather(*(coordinator.async_start() for coordinator in coordinators))

    hub.async_on_stop(async_close, StopStage.INTEGRATIONS)
    # The first readings are taken in the background: buses that do not answer (a gateway
    # that is off costs a connect timeout per meter) must not hold up the hub's start.
    hub.data[DOMAIN] = Dlt645Data(coordinators, hub.async_create_background_task(
        async_first_readings(), f"{DOMAIN} first readings"))
    _LOGGER.info("DL/T 645: %d meters on %d buses", len(coordinators), len(clients))
    return True
