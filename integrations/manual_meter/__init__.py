"""manual_meter: meters read by people (人工抄表), entered with a service or the REST API.

    manual_meter:
      water_main:
        name: 总水表
        energy_type: water          # electricity, water, natural_gas, steam, heat,
                                    # compressed_air, other
        unit: m³                    # default per energy type (kWh, m³, m³, t, GJ, m³)
        meter_id: W-2024-001        # optional: the number on the meter

Each meter is a `total_increasing` sensor (`sensor.water_main`) whose state is the newest
reading, kept across restarts. `manual_meter.record_reading` takes `entity_id`, `reading`,
`time` (when it was read; default now) and, for a new meter, `replaced: true` with
`previous_final_reading` (the old meter's last reading). Readings keep the time they were
read, so one entered late lands in its own period of the statistics.

Checks: a reading below the one before it (in time) is refused unless `replaced`; one above
the reading after it (a late entry) is refused; a replacement's final reading may not be
below the reading before, and the new meter's reading must be below 90 % of the final one
(statistics count a drop of more than 10 % as a new meter starting from 0). A replacement is
filed as the old meter's final reading a microsecond before the new meter's first. A
reading at the time of an earlier one corrects it.
REST: `POST /api/services/manual_meter/record_reading` (operators).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.recorder.const import RESET_RATIO
from plantpulse.core.services import ServiceCall, ServiceField
from plantpulse.integrations.manual_meter.readings import EnteredSensor, Entry, parse_time

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN: Final = "manual_meter"
CONF_NAME: Final = "name"
CONF_ENERGY_TYPE: Final = "energy_type"
CONF_UNIT: Final = "unit"
CONF_METER_ID: Final = "meter_id"
ATTR_ENTITY_ID: Final = "entity_id"
ATTR_READING: Final = "reading"
ATTR_TIME: Final = "time"
ATTR_REPLACED: Final = "replaced"
ATTR_PREVIOUS_FINAL: Final = "previous_final_reading"
MARK_REPLACED: Final = "replaced"
SERVICE_RECORD_READING: Final = "record_reading"

# energy type -> (default unit, device class)
ENERGY_TYPES: Final = {
    "electricity": ("kWh", "energy"),
    "water": ("m³", "water"),
    "natural_gas": ("m³", "gas"),
    "steam": ("t", None),
    "heat": ("GJ", "energy"),
    "compressed_air": ("m³", None),
    "other": (None, None),
}

METER_SCHEMA: Final = vol.Schema({
    vol.Optional(CONF_NAME): cv.string,
    vol.Required(CONF_ENERGY_TYPE): vol.In(sorted(ENERGY_TYPES)),
    vol.Optional(CONF_UNIT): cv.string,
    vol.Optional(CONF_METER_ID): cv.string,
})
CONFIG_SCHEMA: Final = vol.Schema({cv.slug: METER_SCHEMA})

_NUMBER: Final = vol.All(vol.Coerce(float), vol.Range(min=0, msg="must be a number >= 0"))
RECORD_SCHEMA: Final = vol.Schema({
    vol.Required(ATTR_ENTITY_ID): cv.entity_id,
    vol.Required(ATTR_READING): _NUMBER,
    vol.Optional(ATTR_TIME): vol.Any(str, datetime),
    vol.Optional(ATTR_REPLACED, default=False): cv.boolean,
    vol.Optional(ATTR_PREVIOUS_FINAL): _NUMBER,
})
_BEFORE_NEW_METER: Final = timedelta(microseconds=1)


class ManualMeter(EnteredSensor):
    """A meter read by people; the state is its newest reading."""

    def __init__(self, object_id: str, config: dict[str, Any]) -> None:
        default_unit, device_class = ENERGY_TYPES[config[CONF_ENERGY_TYPE]]
        super().__init__(object_id, config.get(CONF_NAME) or object_id,
                         config.get(CONF_UNIT) or default_unit or "")
        self._attr_device_class = device_class
        self._attr_extra_state_attributes = {
            key: config[key] for key in (CONF_ENERGY_TYPE, CONF_METER_ID) if key in config
        }

    def async_record(self, reading: float, at: datetime, replaced: bool,
                     previous_final: float | None) -> None:
        """Check a reading against its neighbours in time and write it."""
        ts = at.timestamp()
        before, after = self.log.before(ts), self.log.after(ts)
        when = at.astimezone(self.hub.site.tz).isoformat()  # as _time() gives the others
        if after is not None and after.mark != MARK_REPLACED and reading > after.value:
            raise ServiceValidationError(
                f"{self.entity_id}: reading {reading:g} at {when} is above the later reading "
                f"{after.value:g} at {self._time(after)}")
        if not replaced:
            if before is not None and reading < before.value:
                raise ServiceValidationError(
                    f"{self.entity_id}: reading {reading:g} at {when} is below the previous "
                    f"reading {before.value:g} at {self._time(before)}; if the meter was "
                    f"replaced, send {ATTR_REPLACED}: true with {ATTR_PREVIOUS_FINAL} (the old "
                    "meter's last reading)")
            self.async_write_entries([Entry(ts, reading)])
            return
        if previous_final is None:
            raise ServiceValidationError(
                f"{self.entity_id}: a replacement needs {ATTR_PREVIOUS_FINAL}, the old meter's "
                "last reading")
        if before is not None and previous_final < before.value:
            raise ServiceValidationError(
                f"{self.entity_id}: {ATTR_PREVIOUS_FINAL} {previous_final:g} is below the "
                f"previous reading {before.value:g} at {self._time(before)}")
        if reading >= RESET_RATIO * previous_final:
            raise ServiceValidationError(
                f"{self.entity_id}: the new meter's reading {reading:g} must be below "
                f"{RESET_RATIO:.0%} of the old meter's final reading {previous_final:g}, or "
                "statistics cannot tell the swap from consumption")
        final_ts = (at - _BEFORE_NEW_METER).timestamp()
        self.async_write_entries([Entry(final_ts, previous_final),
                                  Entry(ts, reading, MARK_REPLACED)])

    def _time(self, entry: Entry) -> str:
        return datetime.fromtimestamp(entry.ts, self.hub.site.tz).isoformat()


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create the meters and the record_reading service."""
    meters = [ManualMeter(object_id, meter) for object_id, meter in config.items()]
    added = await hub.entities.async_add(DOMAIN, meters)
    by_id = {meter.entity_id: meter for meter in added}

    def record_reading(call: ServiceCall) -> None:
        meter = by_id.get(call.data[ATTR_ENTITY_ID])
        if meter is None:
            raise ServiceValidationError(
                f"{call.data[ATTR_ENTITY_ID]} is not a manual meter (these are: "
                f"{', '.join(sorted(by_id)) or 'none configured'})")
        at = (parse_time(hub, call.data[ATTR_TIME]) if ATTR_TIME in call.data
              else hub.clock.now())
        meter.async_set_context(call.context)  # the state change says who entered it
        meter.async_record(call.data[ATTR_READING], at, call.data[ATTR_REPLACED],
                           call.data.get(ATTR_PREVIOUS_FINAL))

    hub.services.async_register(
        DOMAIN, SERVICE_RECORD_READING, record_reading, RECORD_SCHEMA, name="Record reading",
        description="Enter a meter reading at the time it was read (default now). A reading "
        "below the previous one is refused unless the meter was replaced.",
        fields={
            ATTR_ENTITY_ID: ServiceField("The manual meter", example="sensor.water_main"),
            ATTR_READING: ServiceField("The reading on the meter", example=1234.5),
            ATTR_TIME: ServiceField("When it was read (ISO 8601; default now)",
                                    example="2024-03-01T08:00:00+08:00"),
            ATTR_REPLACED: ServiceField("The meter was replaced; `reading` is the new meter's",
                                        example=True),
            ATTR_PREVIOUS_FINAL: ServiceField("The old meter's last reading (with replaced)",
                                              example=98765.4),
        },
    )
    return True
