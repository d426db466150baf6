"""Meter profiles: register maps in YAML files, so a user names a model instead of registers.

Built-in profiles live in this integration's `profiles/` folder; `<config>/modbus_profiles/`
adds more, and a file there with a built-in's name replaces it. The profile id is the file
name without `.yaml`. A profile may `extends:` another and change or add sensors by key::

    manufacturer: CHINT 正泰
    model: DTSU666
    source: CHINT DTSU666 user manual, table 11 (ModBus protocol address table)
    max_gap: 16
    defaults: {input_type: holding, data_type: float32}
    sensors:
      - key: power
        name: {zh-CN: 有功功率, en: Active power}
        address: 0x2012
        scale: 0.0001
        unit_of_measurement: kW
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import voluptuous as vol
import yaml

from plantpulse.core.config import validation as cv
from plantpulse.core.config.errors import humanize_invalid
from plantpulse.integrations.modbus.spec import (
    CONF_ADDRESS,
    CONF_BYTE_ORDER,
    CONF_DATA_TYPE,
    CONF_INPUT_TYPE,
    CONF_WORD_ORDER,
    VALUE_FIELDS,
    ValueSpec,
    value_spec,
)

_NAMES: Final = vol.Any(cv.string, {cv.string: cv.string})

_PROFILE_SENSOR: Final = vol.Schema({
    vol.Required("key"): cv.slug,
    vol.Required("name"): _NAMES,
    **VALUE_FIELDS,
})
# In a profile that extends another, a sensor entry may change only some fields.
_OVERRIDE_SENSOR: Final = vol.Schema({
    vol.Required("key"): cv.slug,
    vol.Optional("name"): _NAMES,
    **{
        (vol.Optional(key.schema) if isinstance(key, vol.Required) else key): value
        for key, value in VALUE_FIELDS.items()
    },
})
_DEFAULTS: Final = vol.Schema({
    key: value for key, value in VALUE_FIELDS.items()
    if key.schema in (CONF_INPUT_TYPE, CONF_DATA_TYPE, CONF_WORD_ORDER, CONF_BYTE_ORDER)
})
_PROFILE: Final = vol.Schema({
    vol.Optional("manufacturer"): cv.string,
    vol.Optional("model"): cv.string,
    vol.Required("source"): cv.string,
    vol.Optional("extends"): cv.string,
    vol.Optional("max_gap"): vol.All(vol.Coerce(int), vol.Range(min=0, max=124)),
    vol.Optional("defaults", default={}): _DEFAULTS,
    vol.Required("sensors"): [dict],
})

BUILTIN_DIR: Final = Path(__file__).resolve().parent / "profiles"


class ProfileError(Exception):
    """A profile file that cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class Profile:
    """A meter model's register map."""

    profile_id: str
    manufacturer: str | None
    model: str | None
    source: str
    max_gap: int
    sensors: tuple[ValueSpec, ...]
    path: Path


def _names(value: str | Mapping[str, str]) -> dict[str, str]:
    return {"en": value} if isinstance(value, str) else dict(value)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise ProfileError(f"Cannot read Modbus profile {path}: {err}") from err
    try:
        return _PROFILE(data)
    except vol.Invalid as err:
        raise ProfileError(f"Modbus profile {path}: {humanize_invalid(err)}") from err


def _sensors(path: Path, entries: list[dict], schema: vol.Schema) -> list[dict[str, Any]]:
    sensors = []
    for index, entry in enumerate(entries):
        try:
            sensors.append(schema(entry))
        except vol.Invalid as err:
            raise ProfileError(
                f"Modbus profile {path}, sensor {index + 1} "
                f"({entry.get('key', 'no key')}): {humanize_invalid(err)}"
            ) from err
    keys = [sensor["key"] for sensor in sensors]
    if duplicates := sorted({key for key in keys if keys.count(key) > 1}):
        raise ProfileError(f"Modbus profile {path}: sensor keys used twice: {duplicates}")
    return sensors


def _resolve(profile_id: str, raw: Mapping[str, dict[str, Any]], paths: Mapping[str, Path],
             seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """The profile's data with its parents' merged in: defaults, max_gap and sensors."""
    data = raw[profile_id]
    path = paths[profile_id]
    parent_id = data.get("extends")
    if parent_id is None:
        return {**data, "sensors": _sensors(path, data["sensors"], _PROFILE_SENSOR)}
    if parent_id in (*seen, profile_id):
        raise ProfileError(f"Modbus profile {path} extends itself through {parent_id!r}")
    if parent_id not in raw:
        raise ProfileError(f"Modbus profile {path} extends {parent_id!r}, which does not "
                           f"exist (known: {', '.join(sorted(raw))})")
    parent = _resolve(parent_id, raw, paths, (*seen, profile_id))
    sensors = {sensor["key"]: sensor for sensor in parent["sensors"]}
    for change in _sensors(path, data["sensors"], _OVERRIDE_SENSOR):
        base = sensors.get(change["key"])
        if base is None and (CONF_ADDRESS not in change or "name" not in change):
            raise ProfileError(f"Modbus profile {path}: sensor {change['key']!r} is not in "
                               f"{parent_id!r}; a new sensor needs a name and an address")
        sensors[change["key"]] = {**(base or {}), **_explicit(change, data["sensors"])}
    return {
        **parent, **{key: value for key, value in data.items() if key != "sensors"},
        "defaults": {**parent["defaults"], **data["defaults"]},
        "max_gap": data.get("max_gap", parent.get("max_gap")),
        "sensors": list(sensors.values()),
    }


def _explicit(change: dict[str, Any], entries: list[dict]) -> dict[str, Any]:
    """The fields a sensor override really wrote (not the schema's defaults)."""
    written = next(entry for entry in entries if entry.get("key") == change["key"])
    return {key: value for key, value in change.items() if key in written}


def load_profiles(folders: Iterable[Path]) -> tuple[dict[str, Profile], list[str]]:
    """Every usable profile in `folders` (later folders replace earlier ones by id), and a
    message for each file that cannot be used. Blocking: run it in the executor."""
    raw: dict[str, dict[str, Any]] = {}
    paths: dict[str, Path] = {}
    errors: list[str] = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                raw[path.stem] = _read(path)
            except ProfileError as err:
                errors.append(str(err))
                raw.pop(path.stem, None)
                continue
            paths[path.stem] = path
    profiles = {}
    for profile_id in raw:
        try:
            data = _resolve(profile_id, raw, paths)
        except ProfileError as err:
            errors.append(str(err))
            continue
        profiles[profile_id] = Profile(
            profile_id=profile_id,
            manufacturer=data.get("manufacturer"),
            model=data.get("model"),
            source=data["source"],
            max_gap=data.get("max_gap") or 0,
            sensors=tuple(
                value_spec(sensor["key"], _names(sensor["name"]), sensor, data["defaults"])
                for sensor in data["sensors"]
            ),
            path=paths[profile_id],
        )
    return profiles, errors
