"""Constants shared across the hub: event types, attribute names, states, defaults."""

from enum import StrEnum
from typing import Final

from plantpulse import __version__

VERSION: Final = __version__

MATCH_ALL: Final = "*"

# Events fired by the core.
EVENT_STATE_CHANGED: Final = "state_changed"
EVENT_STATE_BACKFILLED: Final = "state_backfilled"
EVENT_CALL_SERVICE: Final = "call_service"
EVENT_SERVICE_REGISTERED: Final = "service_registered"
EVENT_SERVICE_REMOVED: Final = "service_removed"
EVENT_HUB_START: Final = "plantpulse_start"
EVENT_HUB_STARTED: Final = "plantpulse_started"
EVENT_HUB_STOP: Final = "plantpulse_stop"
EVENT_HUB_CLOSE: Final = "plantpulse_close"
EVENT_COMPONENT_LOADED: Final = "component_loaded"
EVENT_ENTITY_REGISTRY_UPDATED: Final = "entity_registry_updated"
EVENT_DEVICE_REGISTRY_UPDATED: Final = "device_registry_updated"
EVENT_AREA_REGISTRY_UPDATED: Final = "area_registry_updated"
EVENT_NOTIFICATIONS_UPDATED: Final = "persistent_notifications_updated"

# States every entity may take.
STATE_UNAVAILABLE: Final = "unavailable"
STATE_UNKNOWN: Final = "unknown"
STATE_ON: Final = "on"
STATE_OFF: Final = "off"

# State attributes.
ATTR_FRIENDLY_NAME: Final = "friendly_name"
ATTR_UNIT_OF_MEASUREMENT: Final = "unit_of_measurement"
ATTR_DEVICE_CLASS: Final = "device_class"
ATTR_STATE_CLASS: Final = "state_class"
ATTR_ICON: Final = "icon"

MAX_STATE_LENGTH: Final = 255
MAX_ATTRIBUTES_BYTES: Final = 16384

CONFIG_FILE: Final = "configuration.yaml"
SECRETS_FILE: Final = "secrets.yaml"
STORAGE_DIR: Final = ".storage"
CUSTOM_INTEGRATIONS_DIR: Final = "custom_integrations"
ENV_CONFIG_DIR: Final = "PLANTPULSE_CONFIG"
DEFAULT_CONFIG_DIR: Final = "~/.plantpulse"
DEFAULT_HTTP_PORT: Final = 8130

# Top-level configuration keys owned by the core rather than by an integration.
CORE_DOMAIN: Final = "plantpulse"


class HubState(StrEnum):
    """Lifecycle of a hub."""

    NOT_RUNNING = "NOT_RUNNING"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    STOPPED = "STOPPED"


class EventOrigin(StrEnum):
    """Where an event came from."""

    LOCAL = "LOCAL"
    REMOTE = "REMOTE"
