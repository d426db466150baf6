"""Active alarms as entities: one `alarm.<key>` per active alarm, and `sensor.active_alarms`.

An alarm entity exists while its alarm is active: state `active` or `acknowledged`, every
field of the alarm as attributes, the message (site language) as its name. Clearing removes
it; the recorder keeps its states and the alarm events for the history.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from plantpulse.core.entity import Entity
from plantpulse.core.platforms.sensor import SensorEntity, StateClass
from plantpulse.integrations.alarm.const import ACTIVE_ALARMS_ENTITY_ID, DOMAIN, Severity
from plantpulse.integrations.alarm.models import Alarm
from plantpulse.integrations.alarm.texts import ACTIVE_ALARMS_NAME

# The keys listed in `sensor.active_alarms` at most (state attributes have a size limit).
MAX_LISTED_KEYS = 50
_ICONS = {Severity.CRITICAL: "mdi:alarm-light", Severity.MAJOR: "mdi:alert-octagon",
          Severity.MINOR: "mdi:alert", Severity.WARNING: "mdi:alert-outline"}


class AlarmEntity(Entity):
    """One active alarm."""

    DOMAIN = DOMAIN

    def __init__(self, alarm: Alarm, describe: Callable[[Alarm], dict[str, Any]],
                 language: str) -> None:
        self.alarm = alarm
        self._describe = describe
        self._language = language
        self.entity_id = alarm.entity_id

    @property
    def name(self) -> str:
        return self.alarm.message(self._language)

    @property
    def icon(self) -> str:
        return _ICONS[self.alarm.severity]

    @property
    def state(self) -> str:
        return str(self.alarm.state)

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        attributes = self._describe(self.alarm)
        attributes.pop("state", None)
        attributes.pop("entity_id", None)
        return attributes


class ActiveAlarmsSensor(SensorEntity):
    """How many alarms are active, with counts by severity and the unacknowledged ones."""

    _attr_state_class = StateClass.MEASUREMENT
    _attr_icon = "mdi:bell-alert"

    def __init__(self, active: Callable[[], list[Alarm]], language: str) -> None:
        self._active = active
        self._attr_name = ACTIVE_ALARMS_NAME.get(language, ACTIVE_ALARMS_NAME["en"])
        self.entity_id = ACTIVE_ALARMS_ENTITY_ID

    @property
    def native_value(self) -> int:
        return len(self._active())

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        alarms = self._active()
        counts = {str(severity): 0 for severity in Severity}
        for alarm in alarms:
            counts[str(alarm.severity)] += 1
        return {
            **counts,
            "unacknowledged": sum(alarm.acknowledged_at is None for alarm in alarms),
            "keys": sorted(alarm.key for alarm in alarms)[:MAX_LISTED_KEYS],
        }
