"""Home Assistant MQTT discovery abbreviations (`stat_t` for `state_topic`) and the `~` base.

Gateways and firmware shorten keys to fit small MQTT buffers; discovery expands them before
validating. Only keys of the components PlantPulse discovers (sensor, binary_sensor), the
device, availability and device-based discovery are listed; `ts_tpl` and `ts_path` (the
source time of a value) are PlantPulse's own.
"""

from __future__ import annotations

from typing import Any, Final

ABBREVIATIONS: Final = {
    "avty": "availability",
    "avty_mode": "availability_mode",
    "avty_t": "availability_topic",
    "avty_tpl": "availability_template",
    "cmps": "components",
    "dev": "device",
    "dev_cla": "device_class",
    "en": "enabled_by_default",
    "ent_cat": "entity_category",
    "exp_aft": "expire_after",
    "frc_upd": "force_update",
    "ic": "icon",
    "json_attr_t": "json_attributes_topic",
    "json_attr_tpl": "json_attributes_template",
    "o": "origin",
    "obj_id": "object_id",
    "off_dly": "off_delay",
    "p": "platform",
    "pl_avail": "payload_available",
    "pl_not_avail": "payload_not_available",
    "pl_off": "payload_off",
    "pl_on": "payload_on",
    "stat_cla": "state_class",
    "stat_t": "state_topic",
    "sug_dsp_prc": "suggested_display_precision",
    "t": "topic",
    "ts_path": "timestamp_path",
    "ts_tpl": "timestamp_template",
    "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement",
    "val_tpl": "value_template",
}

DEVICE_ABBREVIATIONS: Final = {
    "cns": "connections",
    "cu": "configuration_url",
    "hw": "hw_version",
    "ids": "identifiers",
    "mdl": "model",
    "mdl_id": "model_id",
    "mf": "manufacturer",
    "sa": "suggested_area",
    "sn": "serial_number",
    "sw": "sw_version",
    "via_device": "via_device",
    "name": "name",
}

AVAILABILITY_KEYS: Final = frozenset({
    "topic", "payload_available", "payload_not_available", "value_template",
})
BASE_TOPIC: Final = "~"


def _expand_keys(data: dict[str, Any], table: dict[str, str]) -> dict[str, Any]:
    return {table.get(key, key): value for key, value in data.items()}


def _with_base(value: Any, base: str | None) -> Any:
    if base is None or not isinstance(value, str):
        return value
    if value.startswith(BASE_TOPIC):
        return base + value[1:]
    if value.endswith(BASE_TOPIC):
        return value[:-1] + base
    return value


def _is_topic_key(key: str) -> bool:
    return key == "topic" or key.endswith("_topic")


def expand(payload: dict[str, Any], base: str | None = None) -> dict[str, Any]:
    """A discovery payload with full key names, `~` replaced in topics, device keys expanded.

    Unknown device and availability keys are dropped (discovery is lenient, as in Home
    Assistant); `base` is the `~` of an enclosing device payload.
    """
    data = _expand_keys(payload, ABBREVIATIONS)
    base = data.pop(BASE_TOPIC, base)
    if base is not None and not isinstance(base, str):
        base = str(base)
    for key, value in list(data.items()):
        if _is_topic_key(key):
            data[key] = _with_base(value, base)
    if isinstance(data.get("device"), dict):
        device = _expand_keys(data["device"], DEVICE_ABBREVIATIONS)
        data["device"] = {key: value for key, value in device.items()
                          if key in DEVICE_ABBREVIATIONS.values()}
    if isinstance(data.get("availability"), list):
        items = []
        for item in data["availability"]:
            if isinstance(item, dict):
                item = _expand_keys(item, ABBREVIATIONS)
                item = {key: value for key, value in item.items() if key in AVAILABILITY_KEYS}
                if "topic" in item:
                    item["topic"] = _with_base(item["topic"], base)
            items.append(item)
        data["availability"] = items
    if isinstance(data.get("components"), dict):
        data["components"] = {
            key: expand(value, base) if isinstance(value, dict) else value
            for key, value in data["components"].items()
        }
    return data
