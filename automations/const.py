"""Names shared by the automations engine: config keys, run modes, defaults."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

CONF_ALIAS: Final = "alias"
CONF_ID: Final = "id"
CONF_ENABLED: Final = "enabled"
CONF_CONTINUE_ON_ERROR: Final = "continue_on_error"
CONF_PLATFORM: Final = "platform"
CONF_ENTITY_ID: Final = "entity_id"
CONF_ATTRIBUTE: Final = "attribute"
CONF_FOR: Final = "for"
CONF_FROM: Final = "from"
CONF_TO: Final = "to"
CONF_NOT_FROM: Final = "not_from"
CONF_NOT_TO: Final = "not_to"
CONF_ABOVE: Final = "above"
CONF_BELOW: Final = "below"
CONF_VALUE_TEMPLATE: Final = "value_template"
CONF_VARIABLES: Final = "variables"
CONF_MODE: Final = "mode"
CONF_MAX: Final = "max"
CONF_MAX_EXCEEDED: Final = "max_exceeded"
CONF_TIMEOUT: Final = "timeout"
CONF_CONTINUE_ON_TIMEOUT: Final = "continue_on_timeout"

DEFAULT_MAX_RUNS: Final = 10
DEFAULT_STORED_TRACES: Final = 5
MAX_STORED_TRACES: Final = 1000


class RunMode(StrEnum):
    """What a new run does while earlier ones still run (Home Assistant's modes)."""

    SINGLE = "single"
    RESTART = "restart"
    QUEUED = "queued"
    PARALLEL = "parallel"


# `max_exceeded` levels: the log level of "a run was dropped", or silent.
LOG_LEVELS: Final = {
    "silent": None, "debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50,
}

# The state attribute of automation and script entities: when a run last started.
ATTR_LAST_TRIGGERED: Final = "last_triggered"
