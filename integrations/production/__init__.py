"""production: output entered by people or read from a counter, for unit consumption.

    production:
      line1_clinker:
        name: 1号线熟料产量
        product: clinker
        unit: t                 # default t
        scope: line             # workshop, line, team or equipment
        target: line_1          # optional: the workshop/line/team/equipment it belongs to

Each output is a `total_increasing` sensor (`sensor.line1_clinker`): the cumulative output,
kept across restarts, so statistics give the output per hour, shift, day or month.
`production.record` takes `entity_id`, `time` (when the output was counted; default now) and
either `quantity` (produced since the entry before) or `counter` (the cumulative count read
from a production counter). Neither may be negative; a counter below the entry before it or
above the one after it is refused. A quantity entered late lands at its own time and moves
the later entries up by it. REST: `POST /api/services/production/record` (operators).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import voluptuous as vol

from plantpulse.core.config import validation as cv
from plantpulse.core.exceptions import ServiceValidationError
from plantpulse.core.services import ServiceCall, ServiceField
from plantpulse.integrations.manual_meter.readings import EnteredSensor, Entry, parse_time

if TYPE_CHECKING:
    from plantpulse.core.hub import Hub

DOMAIN: Final = "production"
CONF_NAME: Final = "name"
CONF_PRODUCT: Final = "product"
CONF_UNIT: Final = "unit"
CONF_SCOPE: Final = "scope"
CONF_TARGET: Final = "target"
SCOPES: Final = ("workshop", "line", "team", "equipment")
DEFAULT_UNIT: Final = "t"
ATTR_ENTITY_ID: Final = "entity_id"
ATTR_QUANTITY: Final = "quantity"
ATTR_COUNTER: Final = "counter"
ATTR_TIME: Final = "time"
SERVICE_RECORD: Final = "record"

OUTPUT_SCHEMA: Final = vol.Schema({
    vol.Optional(CONF_NAME): cv.string,
    vol.Required(CONF_PRODUCT): cv.string,
    vol.Optional(CONF_UNIT, default=DEFAULT_UNIT): cv.string,
    vol.Required(CONF_SCOPE): vol.In(SCOPES),
    vol.Optional(CONF_TARGET): cv.string,
})
CONFIG_SCHEMA: Final = vol.Schema({cv.slug: OUTPUT_SCHEMA})

_AMOUNT: Final = vol.All(vol.Coerce(float), vol.Range(min=0, msg="must be a number >= 0"))
_ONE_AMOUNT: Final = "give 'quantity' (produced since the last entry) or 'counter', not both"
RECORD_SCHEMA: Final = vol.All(vol.Schema({
    vol.Required(ATTR_ENTITY_ID): cv.entity_id,
    vol.Exclusive(ATTR_QUANTITY, "amount", msg=_ONE_AMOUNT): _AMOUNT,
    vol.Exclusive(ATTR_COUNTER, "amount", msg=_ONE_AMOUNT): _AMOUNT,
    vol.Optional(ATTR_TIME): vol.Any(str, datetime),
}), vol.Any(vol.Schema({vol.Required(ATTR_QUANTITY): object}, extra=vol.ALLOW_EXTRA),
            vol.Schema({vol.Required(ATTR_COUNTER): object}, extra=vol.ALLOW_EXTRA),
            msg="give quantity (produced since the last entry) or counter (a counter reading)"))


class ProductionOutput(EnteredSensor):
    """Cumulative output of one product in one scope."""

    def __init__(self, object_id: str, config: dict[str, Any]) -> None:
        super().__init__(object_id, config.get(CONF_NAME) or object_id, config[CONF_UNIT])
        self._attr_extra_state_attributes = {
            key: config[key] for key in (CONF_PRODUCT, CONF_SCOPE, CONF_TARGET) if key in config
        }

    def async_add_quantity(self, quantity: float, at: datetime) -> None:
        """Add output produced up to `at`; later entries move up by it."""
        ts = at.timestamp()
        at_or_before = self.log.before(ts + 1e-6)
        total = (at_or_before.value if at_or_before is not None else 0.0) + quantity
        later = [Entry(entry.ts, entry.value + quantity) for entry in self.log.entries
                 if entry.ts > ts]
        self.async_write_entries([Entry(ts, total), *later])

    def async_set_counter(self, counter: float, at: datetime) -> None:
        """Set the cumulative output at `at` from a counter reading."""
        ts = at.timestamp()
        before, after = self.log.before(ts), self.log.after(ts)
        if before is not None and counter < before.value:
            raise ServiceValidationError(
                f"{self.entity_id}: counter {counter:g} at {at.isoformat()} is below the "
                f"previous entry {before.value:g} at {self._time(before)}")
        if after is not None and counter > after.value:
            raise ServiceValidationError(
                f"{self.entity_id}: counter {counter:g} at {at.isoformat()} is above the "
                f"later entry {after.value:g} at {self._time(after)}")
        self.async_write_entries([Entry(ts, counter)])

    def _time(self, entry: Entry) -> str:
        return datetime.fromtimestamp(entry.ts, self.hub.site.tz).isoformat()


async def async_setup(hub: Hub, config: dict[str, Any]) -> bool:
    """Create the outputs and the record service."""
    outputs = [ProductionOutput(object_id, output) for object_id, output in config.items()]
    by_id = {output.entity_id: output
             for output in await hub.entities.async_add(DOMAIN, outputs)}

    def record(call: ServiceCall) -> None:
        output = by_id.get(call.data[ATTR_ENTITY_ID])
        if output is None:
            raise ServiceValidationError(
                f"{call.data[ATTR_ENTITY_ID]} is not a production output (these are: "
                f"{', '.join(sorted(by_id)) or 'none configured'})")
        at = (parse_time(hub, call.data[ATTR_TIME]) if ATTR_TIME in call.data
              else hub.clock.now())
        output.async_set_context(call.context)  # the state change says who entered it
        if ATTR_QUANTITY in call.data:
            output.async_add_quantity(call.data[ATTR_QUANTITY], at)
        else:
            output.async_set_counter(call.data[ATTR_COUNTER], at)

    hub.services.async_register(
        DOMAIN, SERVICE_RECORD, record, RECORD_SCHEMA, name="Record production",
        description="Enter output: a quantity produced since the last entry, or a counter "
        "reading, at the time it was counted (default now).",
        fields={
            ATTR_ENTITY_ID: ServiceField("The production output", example="sensor.line1_clinker"),
            ATTR_QUANTITY: ServiceField("Produced since the last entry", example=42.5),
            ATTR_COUNTER: ServiceField("A counter reading (cumulative output)", example=12840),
            ATTR_TIME: ServiceField("When it was counted (ISO 8601; default now)",
                                    example="2024-03-01T16:00:00+08:00"),
        },
    )
    return True
