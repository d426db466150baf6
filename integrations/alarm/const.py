"""Constants of the alarm integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Final

DOMAIN: Final = "alarm"

EVENT_ALARM_RAISED: Final = "alarm_raised"
EVENT_ALARM_UPDATED: Final = "alarm_updated"
EVENT_ALARM_ACKNOWLEDGED: Final = "alarm_acknowledged"
EVENT_ALARM_CLEARED: Final = "alarm_cleared"
EVENT_ALARM_ESCALATED: Final = "alarm_escalated"
EVENT_ALARM_FLAPPING: Final = "alarm_flapping"
# The events that make up an alarm's history in the recorder.
HISTORY_EVENTS: Final = (
    EVENT_ALARM_RAISED, EVENT_ALARM_UPDATED, EVENT_ALARM_ACKNOWLEDGED, EVENT_ALARM_CLEARED,
    EVENT_ALARM_ESCALATED,
)

SERVICE_RAISE: Final = "raise"
SERVICE_ACKNOWLEDGE: Final = "acknowledge"
SERVICE_CLEAR: Final = "clear"
SERVICE_HISTORY: Final = "history"

CONF_NOTIFY: Final = "notify"
CONF_NOTIFY_CLEARED: Final = "notify_cleared"
CONF_ESCALATION: Final = "escalation"
CONF_AFTER: Final = "after"
CONF_SEVERITIES: Final = "severities"
CONF_FLAPPING: Final = "flapping"
CONF_MAX_CHANGES: Final = "max_changes"
CONF_WINDOW: Final = "window"
CONF_ENABLED: Final = "enabled"

ATTR_KEY: Final = "key"
ATTR_SEVERITY: Final = "severity"
ATTR_MESSAGE: Final = "message"
ATTR_SOURCE: Final = "source"
ATTR_SNAPSHOT: Final = "snapshot"
ATTR_DATA: Final = "data"
ATTR_NOTE: Final = "note"
ATTR_ENTITY_ID: Final = "entity_id"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_LIMIT: Final = "limit"

LANGUAGES: Final = ("zh-CN", "en")
# Who acknowledged or cleared when no user made the call (an automation, an integration).
SYSTEM_USER: Final = "system"

DEFAULT_MAX_CHANGES: Final = 6
DEFAULT_WINDOW: Final = timedelta(minutes=10)
DEFAULT_HISTORY_SPAN: Final = timedelta(days=7)
DEFAULT_HISTORY_LIMIT: Final = 100
MAX_HISTORY_LIMIT: Final = 1_000

MAX_KEY_LENGTH: Final = 200
MAX_MESSAGE_LENGTH: Final = 1_000
MAX_NOTE_LENGTH: Final = 1_000
# Extra data of an alarm (JSON), kept small: it is in every event and in the entity's state.
MAX_DATA_BYTES: Final = 4_096

STORAGE_KEY: Final = "alarm.active"
STORAGE_VERSION: Final = 1

ACTIVE_ALARMS_ENTITY_ID: Final = "sensor.active_alarms"
REST_ACTIVE_PATH: Final = "/api/alarms"
REST_HISTORY_PATH: Final = "/api/alarms/history"
WS_LIST: Final = "alarm/list"
WS_HISTORY: Final = "alarm/history"


class Severity(StrEnum):
    """How bad an alarm is, most severe first (ITU-T X.733 names)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"

    @property
    def rank(self) -> int:
        """0 for critical up to 3 for warning: lower is more severe."""
        return list(Severity).index(self)


class AlarmState(StrEnum):
    """Where an alarm is in its life."""

    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
