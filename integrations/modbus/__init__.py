"""Modbus meters and devices over TCP, RTU-over-TCP gateways and RS-485 serial lines.

    modbus:
      - name: 配电房网关
        type: tcp              # tcp | rtuovertcp | serial
        host: 192.168.1.50
        port: 502              # serial: port: /dev/ttyUSB0, baudrate, bytesize, parity, stopbits
        scan_interval: 5
        timeout: 2             # seconds to wait for one answer
        connections: 1         # tcp only: parallel connections, for devices that answer at once
        devices:
          - name: 1号进线
            device_id: 1
            profile: chint_dtsu666     # a file in profiles/ or <config>/modbus_profiles/
            ct_ratio: 200
            multipliers:               # ratios from a date on (site time zone)
              - from: 2026-06-15 10:00
                ct_ratio: 300
          - name: 空压机
            device_id: 2
            max_gap: 4                 # read through holes of up to 4 registers
            sensors:
              - name: 功率
                address: 0x2012
                input_type: holding    # holding | input | coil | discrete_input
                data_type: float32     # int16 uint16 int32 uint32 int64 uint64 float32 float64
                word_order: big
                byte_order: big
                scale: 0.1
                unit_of_measurement: kW
                device_class: power
                state_class: measurement

Each device is polled on its own schedule with backoff while it does not answer (its entities
are unavailable; the others on the line keep polling). Values are read in the fewest requests
(see plan.py); coils and discrete inputs become binary sensors.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import ConfigIssue
from plantpulse.core.hub import StopStage
from plantpulse.integrations.modbus.connection import Line, LineSettings
from plantpulse.integrations.modbus.const import (
    DEFAULT_BAUDRATE,
    DEFAULT_RETRIES,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TCP_PORT,
    DEFAULT_TIMEOUT,
    DOMAIN,
    TYPE_SERIAL,
    TYPE_TCP,
    TYPES,
    USER_PROFILES_DIR,
)
from plantpulse.integrations.modbus.device import ModbusDevice, block_summary
from plantpulse.integrations.modbus.entity import build_entities
from plantpulse.integrations.modbus.multiplier import RatioSchedule
from plantpulse.integrations.modbus.profiles import BUILTIN_DIR, Profile, load_profiles
from plantpulse.integrations.modbus.spec import VALUE_FIELDS, ValueSpec, value_spec

if TYPE_CHECKING:
    from pathlib import Path

    from plantpulse.core.hub import Hub

_LOGGER = logging.getLogger(__name__)

CONF_DEVICES: Final = "devices"
CONF_SENSORS: Final = "sensors"
CONF_PROFILE: Final = "profile"
CONF_MULTIPLIERS: Final = "multipliers"
CONF_CT_RATIO: Final = "ct_ratio"
CONF_PT_RATIO: Final = "pt_ratio"
CONF_MAX_GAP: Final = "max_gap"
CONF_SCAN_INTERVAL: Final = "scan_interval"


def _moment(value: Any) -> date | datetime:
    """A date (from its midnight) or a date and time, in the site's time zone unless given."""
    if isinstance(value, datetime | date):
        return value
    try:
        return datetime.fromisoformat(cv.string(value).strip())
    except ValueError as err:
        raise vol.Invalid(f"expected a date such as 2026-06-15 or 2026-06-15 10:00, "
                          f"got {value!r}") from err


_RATIO: Final = vol.All(vol.Coerce(float), vol.Range(min=0, min_included=False,
                                                     msg="must be a number above 0"))

_SENSOR: Final = vol.Schema({vol.Required("name"): cv.string, **VALUE_FIELDS})

_MULTIPLIER: Final = vol.All(
    vol.Schema({
        vol.Required("from"): _moment,
        vol.Optional(CONF_CT_RATIO): _RATIO,
        vol.Optional(CONF_PT_RATIO): _RATIO,
    }),
    vol.Any(vol.Schema({CONF_CT_RATIO: object}, extra=vol.ALLOW_EXTRA),
            vol.Schema({CONF_PT_RATIO: object}, extra=vol.ALLOW_EXTRA),
            msg="a multiplier change needs ct_ratio, pt_ratio or both"),
)


def _check_device(device: dict[str, Any]) -> dict[str, Any]:
    if CONF_PROFILE not in device and not device[CONF_SENSORS]:
        raise vol.Invalid("a device needs a profile or sensors (or both)")
    names = [sensor["name"] for sensor in device[CONF_SENSORS]]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise vol.Invalid(f"sensor names used twice: {', '.join(duplicates)}")
    return device


_DEVICE: Final = vol.All(vol.Schema({
    vol.Required("name"): cv.string,
    vol.Required("device_id"): vol.All(vol.Coerce(int), vol.Range(min=0, max=255)),
    vol.Optional(CONF_PROFILE): cv.string,
    vol.Optional(CONF_SENSORS, default=[]): vol.All(cv.ensure_list, [_SENSOR]),
    vol.Optional(CONF_SCAN_INTERVAL): cv.positive_time_period,
    vol.Optional(CONF_MAX_GAP): vol.All(vol.Coerce(int), vol.Range(min=0, max=124)),
    vol.Optional(CONF_CT_RATIO, default=1.0): _RATIO,
    vol.Optional(CONF_PT_RATIO, default=1.0): _RATIO,
    vol.Optional(CONF_MULTIPLIERS, default=[]): vol.All(cv.ensure_list, [_MULTIPLIER]),
}), _check_device)


def _check_line(line: dict[str, Any]) -> dict[str, Any]:
    if line["type"] == TYPE_SERIAL:
        if not isinstance(line.get("port"), str):
            raise vol.Invalid("a serial line needs port: the serial device, e.g. /dev/ttyUSB0")
        if line["connections"] != 1:
            raise vol.Invalid("a serial line has one connection: remove connections")
    else:
        if not line.get("host"):
            raise vol.Invalid(f"a {line['type']} line needs host: the gateway's address")
        line["port"] = cv.port(line.get("port", DEFAULT_TCP_PORT))
    keys = [(device["device_id"]) for device in line[CONF_DEVICES]]
    if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
        raise vol.Invalid(f"device_id used twice on this line: {duplicates}")
    return line


_LINE: Final = vol.All(vol.Schema({
    vol.Required("name"): cv.string,
    vol.Optional("type", default=TYPE_TCP): vol.In(TYPES),
    vol.Optional("host"): cv.string,
    vol.Optional("port"): vol.Any(int, cv.string),
    vol.Optional("baudrate", default=DEFAULT_BAUDRATE): vol.Coerce(int),
    vol.Optional("bytesize", default=8): vol.In([5, 6, 7, 8]),
    vol.Optional("parity", default="N"): vol.All(cv.string, vol.Upper, vol.In(["N", "E", "O"])),
    vol.Optional("stopbits", default=1): vol.In([1, 2]),
    vol.Optional(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): cv.positive_time_period,
    vol.Optional("timeout", default=DEFAULT_TIMEOUT): cv.positive_time_period,
    vol.Optional("retries", default=DEFAULT_RETRIES): vol.All(vol.Coerce(int),
                                                              vol.Range(min=0, max=5)),
    vol.Optional(CONF_MAX_GAP, default=0): vol.All(vol.Coerce(int), vol.Range(min=0, max=124)),
    vol.Optional("connections", default=1): vol.All(vol.Coerce(int), vol.Range(min=1, max=16)),
    vol.Required(CONF_DEVICES): vol.All(cv.ensure_list, [_DEVICE]),
}), _check_line)


def _unique_names(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = [line["name"] for line in lines]
    if duplicates := sorted({name for name in names if names.count(name) > 1}):
        raise vol.Invalid(f"line names used twice: {', '.join(duplicates)}")
    return lines


CONFIG_SCHEMA: Final = vol.All(cv.ensure_list, [_LINE], _unique_names)


def _timestamp(hub: Hub, moment: date | datetime) -> float:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=hub.site.tz)
    return moment.timestamp()


def _ratios(hub: Hub, device: dict[str, Any]) -> RatioSchedule:
    return RatioSchedule(device[CONF_CT_RATIO], device[CONF_PT_RATIO], [
        (_timestamp(hub, change["from"]), change.get(CONF_CT_RATIO), change.get(CONF_PT_RATIO))
        for change in device[CONF_MULTIPLIERS]
    ])


def _values(device: dict[str, Any], profile: Profile | None) -> list[ValueSpec]:
    values = list(profile.sensors) if profile else []
    values += [value_spec(sensor["name"], {"": sensor["name"]}, sensor)
               for sensor in device[CONF_SENSORS]]
    return values


def validate_config(
    config_dir: Path, config: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[ConfigIssue]]:
    """Resolve the profiles devices name from the profile files, once (the loader runs this
    after CONFIG_SCHEMA, so `check-config` reports unknown ones; such devices are left out).
    A device's `profile` becomes the Profile itself."""
    profiles, errors = load_profiles([BUILTIN_DIR, config_dir / USER_PROFILES_DIR])
    issues = [ConfigIssue(DOMAIN, error) for error in errors]
    for line_config in config:
        kept = []
        for device in line_config[CONF_DEVICES]:
            profile_id = device.get(CONF_PROFILE)
            if profile_id is None or profile_id in profiles:
                if profile_id is not None:
                    device[CONF_PROFILE] = profiles[profile_id]
                kept.append(device)
                continue
            issues.append(ConfigIssue(DOMAIN, (
                f"device {device['name']} on {line_config['name']}: no profile "
                f"{profile_id!r}; known profiles: {', '.join(sorted(profiles))} (add your own "
                f"as {USER_PROFILES_DIR}/{profile_id}.yaml)")))
        line_config[CONF_DEVICES] = kept
    return config, issues


async def async_setup(hub: Hub, config: list[dict[str, Any]]) -> bool:
    """Open the lines, create every device's entities and start polling."""
    devices: list[ModbusDevice] = []
    for line_config in config:
        line = Line(LineSettings(
            name=line_config["name"], kind=line_config["type"], host=line_config.get("host"),
            port=line_config.get("port"), baudrate=line_config["baudrate"],
            bytesize=line_config["bytesize"], parity=line_config["parity"],
            stopbits=line_config["stopbits"],
            timeout=line_config["timeout"].total_seconds(), retries=line_config["retries"],
            connections=line_config["connections"],
        ))
        hub.async_on_stop(line.close, StopStage.INTEGRATIONS)
        for device_config in line_config[CONF_DEVICES]:
            profile: Profile | None = device_config.get(CONF_PROFILE)  # validate_config's
            device = ModbusDevice(
                hub, line, device_config["name"], device_config["device_id"],
                _values(device_config, profile),
                device_config.get(CONF_MAX_GAP, profile.max_gap if profile
                                  else line_config[CONF_MAX_GAP]),
                _ratios(hub, device_config),
                device_config.get(CONF_SCAN_INTERVAL, line_config[CONF_SCAN_INTERVAL]),
                manufacturer=profile.manufacturer if profile else None,
                model=profile.model if profile else None,
            )
            _LOGGER.debug("%s reads %s", device.coordinator.name, block_summary(device.blocks))
            devices.append(device)
    hub.data[DOMAIN] = devices
    for device in devices:
        await hub.entities.async_add(DOMAIN, build_entities(device, hub.site.language))
    for device in devices:
        hub.async_create_task(device.coordinator.async_start(), name=device.coordinator.name)
    return True
